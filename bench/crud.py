"""The deal list, the board and the API's deal (issue 2's targets)."""

from __future__ import annotations

import random
from collections.abc import Callable

from django.db.models import Max

from .generate import Dataset
from .measure import WARMUP, Target, probe, signed_in, token_client

TARGETS = {
    "list": Target("p95", 150),
    "board": Target("p95", 300),
    "api_deal": Target("p99", 50),
}
LABELS = {
    "list": "deal list: owner + stage, by stage date, 50 rows",
    "board": "board, first render of one pipeline",
    "api_deal": "GET /api/v1/deals/{id}",
}


def run(data: Dataset, requests: int, log: Callable[[str], None] = print) -> dict:
    """Run every probe; the answer maps probe names to their figures."""
    from voronka.sales.models import Deal

    rng = random.Random(7)
    inbound = data.pipelines[0]
    stages = data.open_stages[inbound]
    managers = data.managers
    manager = managers[0]
    manager_id = data.manager_ids[manager]

    def list_as_head(i: int) -> str:
        owner = data.manager_ids[managers[i % len(managers)]]
        stage = stages[(i // len(managers)) % len(stages)]
        return f"/deals/?owner={owner}&stage={stage}&sort=-stage_date"

    def list_as_manager(i: int) -> str:
        stage = stages[i % len(stages)]
        return f"/deals/?owner={manager_id}&stage={stage}&sort=-stage_date"

    def board(i: int) -> str:
        return f"/board/?pipeline={inbound}"

    def board_by_next_step(i: int) -> str:
        return f"/board/?pipeline={inbound}&sort=next_step"

    max_id = Deal.objects.filter(workspace_id=data.workspace_id).aggregate(m=Max("id"))["m"]
    head_ids = [rng.randint(1, max_id) for _ in range(requests + WARMUP)]
    own_ids = list(
        Deal.objects.filter(workspace_id=data.workspace_id, owner_id=manager_id)
        .order_by("?")
        .values_list("id", flat=True)[: requests + WARMUP]
    )

    results = {}
    head_client = signed_in(data.head)
    manager_client = signed_in(manager)
    head_api, head_headers = token_client(data.head)
    manager_api, manager_headers = token_client(manager)
    probes = [
        ("list", "head", head_client, list_as_head, None),
        ("list", "manager", manager_client, list_as_manager, None),
        ("board", "head", head_client, board, None),
        ("board", "manager", manager_client, board, None),
        ("board", "head, by next step", head_client, board_by_next_step, None),
        ("board", "manager, by next step", manager_client, board_by_next_step, None),
        (
            "api_deal",
            "head",
            head_api,
            lambda i: f"/api/v1/deals/{head_ids[i % len(head_ids)]}",
            head_headers,
        ),
        (
            "api_deal",
            "manager",
            manager_api,
            lambda i: f"/api/v1/deals/{own_ids[i % len(own_ids)]}",
            manager_headers,
        ),
    ]
    for kind, who, client, url_for, headers in probes:
        name = f"{kind}:{who}"
        log(f"  measuring {name} ({requests} requests) …")
        result = probe(client, url_for, requests, headers)
        result["kind"] = kind
        result["who"] = who
        results[name] = result
    return results
