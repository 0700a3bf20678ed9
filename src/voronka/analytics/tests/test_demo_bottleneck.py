"""The demo company's funnel names its bottleneck: manager4's deals stall after the meeting."""

from datetime import timedelta

import pytest

from voronka.accounts.models import User
from voronka.analytics import queries
from voronka.analytics.report import funnel_report
from voronka.control.evaluate import local_today
from voronka.core.demo import build_demo
from voronka.sales.models import Pipeline

pytestmark = pytest.mark.django_db


def test_the_demo_funnel_names_manager4_and_the_meeting_stage():
    ws = build_demo(seed=11, scale=0.3).workspace
    pipeline = Pipeline.objects.get(workspace=ws, is_inbound=True)
    today = local_today(ws)
    sel = queries.Selection.make(ws, pipeline, since=today - timedelta(days=179), until=today)
    report = funnel_report(sel)
    manager4 = User.objects.get(workspace=ws, username="manager4")
    first = report.bottlenecks[0]
    assert first.owner_id == manager4.id
    assert first.stage.name == "Встреча назначена"
    assert report.sentences[0].startswith(manager4.get_full_name())
