"""The funnel checks itself: what the pipeline editor warns about, and why, in words.

The decisions are ``control.rules.funnel_findings`` (plain Python); this module gathers the
facts it needs from the database — the stages, the number of loss reasons, and which deals went
through which stages — and turns each finding into a message in the reader's language.

Which deals passed which stages is read from a bounded sample: the deals of the pipeline that
moved in the last twelve months, the most recent first, at most ``SAMPLE_DEALS`` of them, with
their whole stage histories. The editor stays fast on a funnel of millions of deals, and a
sample of a couple of thousand walks is plenty to tell steps from alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from voronka.control.rules import Finding, FunnelWarning, StageFacts, funnel_findings

from .models import Deal, LossReason, Pipeline, Stage, StageChange

SAMPLE_DEALS = 2000
WINDOW = timedelta(days=365)
_CHUNK = 500


@dataclass(frozen=True)
class FunnelMessage:
    """One warning about the funnel's design: what is wrong, why it matters, what to do."""

    code: str
    text: str
    stages: tuple[Stage, ...] = field(default_factory=tuple)


def stage_facts(stages) -> list[StageFacts]:
    return [StageFacts(s.id, s.name, s.kind, s.position, s.normal_days) for s in stages]


def deal_passes(pipeline: Pipeline, stage_ids, *, now=None, sample: int = SAMPLE_DEALS):
    """For each of ``stage_ids``, the ids of the sampled deals that ever entered it."""
    now = now or timezone.now()
    deal_ids = list(
        Deal.objects.filter(
            workspace_id=pipeline.workspace_id,
            pipeline_id=pipeline.id,
            stage_entered_at__gte=now - WINDOW,
        )
        .order_by("-stage_entered_at")
        .values_list("id", flat=True)[:sample]
    )
    passes: dict[int, set[int]] = {sid: set() for sid in stage_ids}
    for start in range(0, len(deal_ids), _CHUNK):
        rows = StageChange.objects.filter(
            workspace_id=pipeline.workspace_id,
            deal_id__in=deal_ids[start : start + _CHUNK],
            to_stage_id__in=list(passes),
        ).values_list("deal_id", "to_stage_id")
        for deal_id, stage_id in rows:
            passes[stage_id].add(deal_id)
    return passes


def _quoted(stages) -> str:
    return ", ".join(f"«{s.name}»" for s in stages)


def _message(finding: Finding, stages_by_id: dict[int, Stage]) -> FunnelMessage:
    stages = tuple(stages_by_id[i] for i in finding.stage_ids if i in stages_by_id)
    code = finding.code
    if code == FunnelWarning.PARKING_STAGE:
        text = _(
            "%(stage)s is a parking place, not a step of a sale: deals wait there without "
            "moving the sale on, and conversion figures from it mean nothing. Use a snooze or "
            "a task with a date instead, and keep the deal at the stage it has reached."
        ) % {"stage": _quoted(stages)}
    elif code == FunnelWarning.NO_NORMAL_DURATION:
        text = ngettext(
            "%(stages)s has no normal duration: a deal can sit there for months and nobody is "
            "told. Give it the number of days a deal normally spends there.",
            "%(stages)s have no normal duration: a deal can sit there for months and nobody is "
            "told. Give each the number of days a deal normally spends there.",
            len(stages),
        ) % {"stages": _quoted(stages)}
    elif code == FunnelWarning.LOST_WITHOUT_REASONS:
        text = _(
            "%(stage)s has no loss reasons to choose from: each manager writes the reason in "
            "their own words, and nobody can count why deals are lost. Add the reasons you "
            "meet in practice to the list of loss reasons."
        ) % {"stage": _quoted(stages)}
    elif code == FunnelWarning.ALTERNATIVE_STAGES:
        first, second = (stages + (None, None))[:2]
        text = _(
            "%(first)s and %(second)s look like alternatives, not steps: almost none of the "
            "deals that reached one went through the other. A deal goes to one or the other, "
            "so the conversion between them means nothing. Merge them into one stage, or give "
            "each kind of sale its own pipeline."
        ) % {
            "first": _quoted([first]) if first else "",
            "second": _quoted([second]) if second else "",
        }
    elif code == FunnelWarning.NO_WON_STAGE:
        text = _(
            "The pipeline has no won stage: no deal can be closed as a sale, so neither revenue "
            "nor conversion can be counted. Add a stage of the kind «Won»."
        )
    elif code == FunnelWarning.NO_LOST_STAGE:
        text = _(
            "The pipeline has no lost stage: deals that fail stay open for ever and swell the "
            "funnel. Add a stage of the kind «Lost»."
        )
    else:  # a finding this version does not know how to word
        text = str(code)
    return FunnelMessage(str(code), text, stages)


def check_pipeline(pipeline: Pipeline, *, now=None) -> list[FunnelMessage]:
    """The warnings about ``pipeline``'s design, each explaining why it is a problem."""
    stages = list(
        Stage.objects.filter(
            workspace_id=pipeline.workspace_id, pipeline_id=pipeline.id, is_archived=False
        ).order_by("position", "id")
    )
    reasons = LossReason.objects.filter(workspace_id=pipeline.workspace_id, is_archived=False)
    open_ids = [s.id for s in stages if s.kind == "open"]
    passes = deal_passes(pipeline, open_ids, now=now) if len(open_ids) > 1 else None
    findings = funnel_findings(
        stage_facts(stages), loss_reason_count=reasons.count(), passes=passes
    )
    by_id = {s.id: s for s in stages}
    # Stages without a normal duration are one message, not one per stage.
    merged: list[Finding] = []
    durations: list[int] = []
    for finding in findings:
        if finding.code == FunnelWarning.NO_NORMAL_DURATION:
            if not durations:
                merged.append(finding)
            durations.extend(finding.stage_ids)
        else:
            merged.append(finding)
    out = []
    for finding in merged:
        if finding.code == FunnelWarning.NO_NORMAL_DURATION:
            finding = Finding(finding.code, tuple(durations))
        out.append(_message(finding, by_id))
    return out
