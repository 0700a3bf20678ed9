"""The board, the deal list and the deal page: parse → access → action → render.

The board stays fast on millions of deals: each column is one indexed query for its first
page (``(workspace, stage, stage_entered_at)``, or the owner index when filtered by people),
the totals are aggregates grouped by stage (one for the open stages, one for the closed), and the
next tasks of the visible cards come in one query. Won and lost columns show only recently
closed deals. Sorted by next step, an open column reads ``(workspace[, owner], stage,
next_step_due, id)``: the deals with a next step by due time, then those without, paged by a
cursor (see ``sales.next_steps``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from voronka.accounts.access import assignable_users, may_write
from voronka.accounts.models import User
from voronka.activities.access import visible_tasks
from voronka.activities.goals import suggested_goals
from voronka.activities.next_step import NextStepForm, needs_next_step, plan_posted
from voronka.activities.task_views import TaskForm
from voronka.clients.access import (
    access_company,
    access_contact,
    visible_companies,
    visible_contacts,
)
from voronka.core.errors import DomainError, Invalid
from voronka.inbox.forms import CommunicationForm

from . import rules
from .access import access_deal, access_stage, visible_deals, visible_pipelines, visible_stages
from .actions import do_create_deal, do_move_deal, do_update_deal
from .forms import (
    SORTS,
    DealFilterForm,
    DealForm,
    EntryFieldsForm,
    MoveForm,
    team_member_ids,
    visible_teams,
)
from .models import Deal, LossReason, Product, StageKind
from .templatetags.sales_format import format_money
from .timeline import deal_timeline

BOARD_PAGE = 20
#: Won and lost columns show the deals closed within this many days.
RECENT_CLOSED_DAYS = 30
LIST_PAGE = 50
COUNT_CAP = 10_000
TIMELINE_PAGE = 50
#: What a board card shows; loading only these keeps a few hundred cards cheap.
CARD_FIELDS = (
    "id",
    "title",
    "stage_id",
    "stage_entered_at",
    "amount",
    "currency",
    "owner__id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "company__id",
    "company__name",
    "contact__id",
    "contact__first_name",
    "contact__last_name",
    "next_step_due",
)
#: The orders of a board's open columns (``?sort=``): newest in the stage first, or by next step.
SORT_BY_STAGE_DATE = ""
SORT_BY_NEXT_STEP = "next_step"
BOARD_SORTS = (SORT_BY_STAGE_DATE, SORT_BY_NEXT_STEP)
#: How long a stage's typical stay (the allowed gap to the next contact) is reused, seconds.
TYPICAL_STAY_TTL = 3600
#: The event the deal page's live parts reload on.
DEAL_CHANGED = "dealChanged"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


# --- The board ------------------------------------------------------------------------------


@dataclass
class BoardFilters:
    """Whose deals the board shows; ``owner_ids`` None means everyone the viewer sees."""

    owner: User | None = None
    team: object = None
    product: object = None
    owner_ids: frozenset[int] | None = None
    #: The order of the open columns (one of ``BOARD_SORTS``), kept with the filters.
    sort: str = SORT_BY_STAGE_DATE

    @property
    def query(self) -> str:
        params = {}
        if self.owner:
            params["owner"] = self.owner.id
        if self.team:
            params["team"] = self.team.id
        if self.product:
            params["product"] = self.product.id
        if self.sort:
            params["sort"] = self.sort
        return urlencode(params)

    @property
    def by_next_step(self) -> bool:
        return self.sort == SORT_BY_NEXT_STEP

    def apply(self, qs):
        if self.product is not None:
            qs = qs.filter(product_id=self.product.id)
        if self.owner_ids is None:
            return qs
        return qs.filter(owner_id__in=self.owner_ids)


def _board_filters(user, params) -> BoardFilters:
    filters = BoardFilters()
    owner_id = _int(params.get("owner"))
    if owner_id is not None:
        filters.owner = assignable_users(user).filter(id=owner_id).first()
    team_id = _int(params.get("team"))
    if team_id is not None:
        filters.team = visible_teams(user).filter(id=team_id).first()
    product_id = _int(params.get("product"))
    if product_id is not None:
        filters.product = Product.objects.filter(
            workspace_id=user.workspace_id, id=product_id
        ).first()
    ids = None
    if filters.owner is not None:
        ids = {filters.owner.id}
    if filters.team is not None:
        members = team_member_ids(filters.team)
        ids = members if ids is None else ids & members
    filters.owner_ids = None if ids is None else frozenset(ids)
    sort = params.get("sort") or SORT_BY_STAGE_DATE
    filters.sort = sort if sort in BOARD_SORTS else SORT_BY_STAGE_DATE
    return filters


@dataclass
class Column:
    stage: object
    cards: list
    count: int
    total: str
    has_more: bool
    next_page: int = 2
    recent_only: bool = False
    #: Where the next page starts when the column is in next-step order (else ``next_page``).
    after: str = ""


def _recent_cutoff():
    return timezone.now() - timedelta(days=RECENT_CLOSED_DAYS)


def _column_deals(base, stage, since):
    qs = base.filter(stage_id=stage.id)
    if stage.kind != StageKind.OPEN:
        qs = qs.filter(stage_entered_at__gte=since)
    return (
        qs.select_related("owner", "company", "contact")
        .only(*CARD_FIELDS)
        .order_by("-stage_entered_at", "-id")
    )


def _next_step_page(qs, after, limit: int) -> list:
    """Up to ``limit`` deals of a column in next-step order after the cursor ``after``.

    Two index ranges rather than one ``NULLS LAST`` order (which SQLite cannot read from an
    index): the deals with a next step by ``(next_step_due, id)``, then those without by id.
    """
    planned = qs.filter(next_step_due__isnull=False).order_by("next_step_due", "id")
    unplanned = qs.filter(next_step_due__isnull=True).order_by("id")
    if after is not None and after[0] is None:
        return list(unplanned.filter(id__gt=after[1])[:limit])
    if after is not None:
        due, last_id = after
        planned = planned.filter(next_step_due__gte=due).exclude(next_step_due=due, id__lte=last_id)
    rows = list(planned[:limit])
    if len(rows) < limit:
        rows += list(unplanned[: limit - len(rows)])
    return rows


def _column_page(base, stage, since, filters, *, page: int = 1, after=None) -> Column:
    """One page of a column's cards (no count or total: the board adds them)."""
    qs = _column_deals(base, stage, since)
    if filters.by_next_step and stage.kind == StageKind.OPEN:
        deals = _next_step_page(qs.order_by(), after, BOARD_PAGE + 1)
        cards = deals[:BOARD_PAGE]
        has_more = len(deals) > BOARD_PAGE
        last = cards[-1] if cards else None
        cursor = rules.next_step_cursor(last.next_step_due, last.id) if last else ""
        return Column(stage, cards, 0, "", has_more, after=cursor if has_more else "")
    offset = (page - 1) * BOARD_PAGE
    deals = list(qs[offset : offset + BOARD_PAGE + 1])
    return Column(stage, deals[:BOARD_PAGE], 0, "", len(deals) > BOARD_PAGE, next_page=page + 1)


def _column_totals(base, stages, since) -> dict[int, tuple[int, object]]:
    """Count and sum per stage, grouped by stage; closed stages count only recent deals.

    Open and closed stages are aggregated apart: each condition then reads an index range of
    ``(workspace, stage[, stage_entered_at])``, where one query joined by OR would make the
    database walk every deal of the workspace.
    """
    open_ids = [s.id for s in stages if s.kind == StageKind.OPEN]
    closed_ids = [s.id for s in stages if s.kind != StageKind.OPEN]
    parts = []
    if open_ids:
        parts.append(base.filter(stage_id__in=open_ids))
    if closed_ids:
        parts.append(base.filter(stage_id__in=closed_ids, stage_entered_at__gte=since))
    totals = {}
    for qs in parts:
        rows = qs.order_by().values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
        totals.update({r["stage_id"]: (r["n"], r["total"] or 0) for r in rows})
    return totals


def _next_tasks(user, deal_ids) -> dict[int, object]:
    """The earliest open task of each deal, for the given deals only, in one query."""
    if not deal_ids:
        return {}
    first: dict[int, object] = {}
    tasks = (
        visible_tasks(user)
        .filter(deal_id__in=deal_ids, done_at__isnull=True)
        .only("id", "deal_id", "due_at", "goal", "type")
        .order_by("deal_id", "due_at", "id")
    )
    for t in tasks:
        first.setdefault(t.deal_id, t)
    return first


def _url_for_id(name: str):
    """``reverse`` once, then format per card: a board renders a few hundred deal links."""
    marker = 987654321
    pattern = reverse(name, args=[marker]).replace(str(marker), "{}")
    return pattern.format


def _snoozes(deal_ids, now) -> dict[int, object]:
    """The running snooze of each deal that has one (the latest ``until`` wins)."""
    from voronka.control.models import Snooze

    if not deal_ids:
        return {}
    running: dict[int, object] = {}
    rows = (
        Snooze.objects.filter(deal_id__in=deal_ids, ended_at__isnull=True, until__gt=now)
        .only("id", "deal_id", "until", "reason")
        .order_by("deal_id", "-until", "-id")
    )
    for s in rows:
        running.setdefault(s.deal_id, s)
    return running


def _typical_stay(stage) -> float | None:
    """The control app's typical stay in a stage, reused for an hour: its median over the
    latest finished stays moves slowly, and reading them costs tens of milliseconds a stage."""
    from voronka.control.evaluate import typical_stay_days

    key = f"board:typical-stay:{stage.id}:{stage.created_at.timestamp()}"
    cached = cache.get(key)
    if cached is None:
        cached = (typical_stay_days(stage.id),)
        cache.set(key, cached, TYPICAL_STAY_TTL)
    return cached[0]


class _GapRule:
    """How far ahead a next contact may be, per stage: the head's setting or the typical stay,
    as the control app decides it (``control.evaluate.Context.allowed_gap_days``)."""

    def __init__(self, workspace_id: int):
        self.workspace_id = workspace_id
        self._fixed: tuple[int | None] | None = None  # read at the first card that needs it
        self._typical: dict[int, float | None] = {}

    @property
    def fixed(self) -> int | None:
        from voronka.control.models import RuleSettings

        if self._fixed is None:
            self._fixed = (RuleSettings.for_workspace(self.workspace_id).next_contact_gap_days,)
        return self._fixed[0]

    def days(self, stage) -> float | None:
        if self.fixed is not None:
            return float(self.fixed)
        if stage.id not in self._typical:
            self._typical[stage.id] = _typical_stay(stage)
        return self._typical[stage.id]


def _decorate_cards(user, deals, now, stages=None) -> None:
    """Links, days in stage, the next task and the control states of each card.

    ``stages`` maps stage ids to the stages the cards are at (loaded when not given).
    """
    ids = [d.id for d in deals]
    tasks = _next_tasks(user, ids)
    if stages is None:
        wanted = {d.stage_id for d in deals}
        stages = {
            s.id: s for s in visible_stages(user, include_archived=True).filter(id__in=wanted)
        }
    open_deals = [d for d in deals if d.stage_id in stages and not stages[d.stage_id].is_closed]
    snoozes = _snoozes([d.id for d in open_deals], now)
    gaps = _GapRule(user.workspace_id) if open_deals else None
    detail_url = _url_for_id("sales:deal_detail")
    move_url = _url_for_id("sales:deal_move")
    for d in deals:
        d.url = detail_url(d.id)
        d.move_url = move_url(d.id)
        d.days_in_stage = rules.days_in_stage(d.stage_entered_at, now)
        d.next_task = tasks.get(d.id)
        due = d.next_task.due_at if d.next_task else None
        d.next_state = str(rules.next_step_state(due, now))
        d.state = None
        d.snooze = None
        stage = stages.get(d.stage_id)
        if stage is None or stage.is_closed:
            continue
        d.snooze = snoozes.get(d.id)
        until = d.snooze.until if d.snooze else None
        # The allowed gap is read only where it can matter, as the control app does.
        gap = gaps.days(stage) if due is not None and due > now and until is None else None
        d.state = rules.card_state(
            entered_at=d.stage_entered_at,
            normal_days=stage.normal_days,
            next_due=due,
            allowed_gap_days=gap,
            snoozed_until=until,
            now=now,
        )
        d.normal_days = stage.normal_days
        d.allowed_gap_days = gap
        d.days_ahead = rules.days_in_stage(now, due) if due is not None else None


def _board_pipeline(request, pipelines):
    by_id = {p.id: p for p in pipelines}
    wanted = _int(request.GET.get("pipeline"))
    if wanted in by_id:
        request.session["board_pipeline"] = wanted
        return by_id[wanted]
    remembered = request.session.get("board_pipeline")
    if remembered in by_id:
        return by_id[remembered]
    return pipelines[0] if pipelines else None


def _loss_reasons(user) -> list[str]:
    """The head's list of loss reasons, offered when a deal is marked lost (workspace settings,
    the same for everyone in the workspace)."""
    return list(
        LossReason.objects.filter(workspace_id=user.workspace_id, is_archived=False)
        .order_by("position", "id")
        .values_list("name", flat=True)
    )


def _currency(user) -> str:
    return user.workspace.currency if user.workspace_id else ""


@login_required
def board(request):
    user = request.user
    pipelines = list(visible_pipelines(user))
    pipeline = _board_pipeline(request, pipelines)
    filters = _board_filters(user, request.GET)
    columns = []
    if pipeline is not None:
        now = timezone.localtime()
        since = _recent_cutoff()
        stages = list(
            visible_stages(user).filter(pipeline_id=pipeline.id).order_by("position", "id")
        )
        base = filters.apply(visible_deals(user))
        totals = _column_totals(base, stages, since)
        cards = []
        currency = _currency(user)
        for stage in stages:
            column = _column_page(base, stage, since, filters)
            count, total = totals.get(stage.id, (0, 0))
            column.count, column.total = count, format_money(total, currency)
            column.recent_only = stage.is_closed
            columns.append(column)
            cards += column.cards
        _decorate_cards(user, cards, now, {s.id: s for s in stages})
    owners = list(assignable_users(user))
    return render(
        request,
        "sales/board.html",
        {
            "pipelines": pipelines,
            "pipeline": pipeline,
            "columns": columns,
            "filters": filters,
            "sorts": [
                (SORT_BY_STAGE_DATE, _("By date in the stage")),
                (SORT_BY_NEXT_STEP, _("By next step")),
            ],
            "owners": owners if len(owners) > 1 else [],
            "teams": list(visible_teams(user)),
            "products": list(
                Product.objects.filter(workspace_id=user.workspace_id).order_by(
                    "is_archived", "position", "id"
                )
            ),
            "writable": may_write(user),
            "recent_days": RECENT_CLOSED_DAYS,
            "may_create": may_write(user) and bool(owners),
            "loss_reasons": _loss_reasons(user) if may_write(user) else [],
        },
    )


@login_required
def board_column(request, stage_id: int):
    """The next page of a column's cards (htmx "show more")."""
    user = request.user
    stage = access_stage(user, stage_id)
    filters = _board_filters(user, request.GET)
    page = max(1, _int(request.GET.get("page")) or 1)
    after = rules.parse_next_step_cursor(request.GET.get("after"))
    base = filters.apply(visible_deals(user))
    column = _column_page(base, stage, _recent_cutoff(), filters, page=page, after=after)
    _decorate_cards(user, column.cards, timezone.localtime(), {stage.id: stage})
    return render(
        request,
        "sales/_board_more.html",
        {"column": column, "filters": filters, "writable": may_write(user)},
    )


# --- Moving a deal --------------------------------------------------------------------------


def _move_error(form: MoveForm) -> Invalid:
    fields = {name: str(errors[0]) for name, errors in form.errors.items()}
    message = next(iter(fields.values()), _("Choose a stage."))
    return Invalid(message, fields, code="move_refused")


ENTRY_PREFIX = "entry-"


def _posted_entry_names(data) -> list[str]:
    return [key.removeprefix(ENTRY_PREFIX) for key in data if key.startswith(ENTRY_PREFIX)]


def _entry_form_for(user, error, data):
    """The form asking for what a refused move lacks, or None when the refusal is not about
    fields one can fill in (another pipeline, the order rules, …)."""
    names = [name for name in error.fields if name != "stage"]
    if not names:
        return None
    form = EntryFieldsForm(user, names, data)
    if not form.fields:
        return None
    if form.is_bound:
        form.is_valid()
        for name, message in error.fields.items():
            if name in form.fields and name not in form.errors:
                form.add_error(name, str(message))
    return form


@login_required
@require_POST
def deal_move(request, deal_id: int):
    """Move a deal to another stage: JSON for the board, a fragment for the deal page (htmx),
    a redirect for a plain form. A refusal answers 422 and leaves the deal where it was; when
    the stage wants fields the deal lacks, the refusal carries a form asking for them, and the
    values come back with the next try (``entry-<name>``) to be saved with the move."""
    user = request.user
    deal = access_deal(user, deal_id, for_update=True)
    form = MoveForm(user, deal, request.POST)
    entry_names = _posted_entry_names(request.POST)
    entry = EntryFieldsForm(user, entry_names, request.POST) if entry_names else None
    board = "application/json" in request.headers.get("Accept", "")
    # The next step, asked for when the deal has no open task (the deal page sends it with the
    # move; the board asks in its dialog and sends it with the next try).
    next_form = NextStepForm.for_request(request.POST, deal, place="board" if board else "move")
    error = None
    moved = None
    asks_next = False
    if not form.is_valid():
        error = _move_error(form)
    elif entry is not None and not entry.is_valid():
        fields = {name: str(errors[0]) for name, errors in entry.errors.items()}
        error = Invalid(next(iter(fields.values())), fields, code="missing_fields")
    else:
        reason = form.cleaned_data["loss_reason"]
        if entry is not None and entry.cleaned_data.get("loss_reason"):
            reason = entry.cleaned_data["loss_reason"]
        given = entry.given() if entry is not None else {}
        asks_next = (
            board
            and next_form is None
            and needs_next_step(deal, entering=form.cleaned_data["stage"])
        )
        try:
            with transaction.atomic():
                moved = do_move_deal(
                    user,
                    deal,
                    form.cleaned_data["stage"],
                    loss_reason=reason,
                    **({"fields": given} if given else {}),
                )
                plan_posted(user, moved, next_form)
                if asks_next:
                    # The move would pass, but the deal would be left without a next step:
                    # undone, and the board's dialog asks for it.
                    raise Invalid(
                        _("The deal has no open task: plan its next step with the move."),
                        code="next_step",
                    )
        except DomainError as exc:
            error, moved = exc, None
    ask = None
    if error is not None:
        ask = _entry_form_for(user, error, request.POST if entry_names else None)
    target = form.cleaned_data.get("stage") if hasattr(form, "cleaned_data") else None

    if board:
        next_ask = None
        if error is not None and asks_next and (ask is not None or error.code == "next_step"):
            next_ask = NextStepForm(deal=deal, place="board", stage=target)
        elif error is not None and next_form is not None and (ask is not None or next_form.errors):
            next_ask = next_form  # what was typed stays, with its errors
            if target is not None:
                next_ask.goals = suggested_goals(deal.workspace_id, target.pk)
        return _move_json(request, deal, moved, error, ask, next_ask)
    if request.htmx:
        fresh = access_deal(user, deal_id)
        ctx = _stage_panel_context(user, fresh)
        if error is not None:
            asks_more = ask is not None and set(ask.fields) != {"loss_reason"}
            ctx.update(
                move_error=str(error.message),
                loss_reason=request.POST.get("loss_reason", ""),
                asking_reason="loss_reason" in error.fields and not asks_more,
                entry_form=ask if asks_more else None,
                entry_stage=target,
            )
            if next_form is not None and ctx.get("move_next_form") is not None:
                ctx["move_next_form"] = next_form  # what was typed stays, with its errors
            return render(request, "sales/_deal_stages.html", ctx, status=422)
        response = render(request, "sales/_deal_stages.html", ctx)
        trigger_client_event(response, DEAL_CHANGED)
        return trigger_client_event(
            response,
            "voronka:toast",
            {
                "message": _("The deal is now at «%(stage)s».") % {"stage": moved.stage.name},
                "kind": "success",
            },
        )
    if error is not None:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("The deal is now at «%(stage)s».") % {"stage": moved.stage.name}
        )
    return redirect(_safe_next(request) or reverse("sales:deal_detail", args=[deal.id]))


def _move_json(request, deal, moved, error, ask=None, next_ask=None):
    if error is not None:
        body = {"ok": False, **error.as_dict()}
        if ask is not None or next_ask is not None:
            # One dialog: the fields the stage wants, then the next step when it is missing.
            body["form"] = render_to_string(
                "sales/_entry_fields.html", {"form": ask, "next_form": next_ask}, request=request
            )
            if ask is None:
                body["title"] = _("Plan the next step")
        return JsonResponse(body, status=422, json_dumps_params={"ensure_ascii": False})
    user = request.user
    filters = _board_filters(user, request.POST)
    moved = (
        Deal.objects.select_related("owner", "company", "contact", "stage")
        .filter(pk=moved.pk)
        .first()
    )
    _decorate_cards(user, [moved], timezone.localtime(), {moved.stage_id: moved.stage})
    card = render_to_string(
        "sales/_deal_card.html",
        {"deal": moved, "closed": moved.stage.is_closed, "writable": True},
        request=request,
    )
    stages = [deal.stage, moved.stage]
    totals = _column_totals(filters.apply(visible_deals(user)), stages, _recent_cutoff())
    currency = _currency(user)
    columns = {
        str(s.id): {
            "count": totals.get(s.id, (0, 0))[0],
            "total": format_money(totals.get(s.id, (0, 0))[1], currency),
        }
        for s in stages
    }
    return JsonResponse(
        {
            "ok": True,
            "card": card,
            "columns": columns,
            "message": _("The deal is now at «%(stage)s».") % {"stage": moved.stage.name},
        },
        json_dumps_params={"ensure_ascii": False},
    )


# --- The deal list --------------------------------------------------------------------------


@dataclass
class CappedPage:
    """A page of a list whose total is counted only up to a cap."""

    rows: list
    number: int
    per_page: int
    total: int
    capped: bool
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def start(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1

    @property
    def window(self) -> list[int | None]:
        """Page numbers around the current one; None marks a gap."""
        last = self.num_pages
        pages = sorted({1, *range(max(1, self.number - 2), min(last, self.number + 2) + 1)})
        if not self.capped:
            pages = sorted(set(pages) | {last})
        out: list[int | None] = []
        for p in pages:
            if out and out[-1] is not None and p - out[-1] > 1:
                out.append(None)
            out.append(p)
        if self.capped:
            out.append(None)
        return out


def capped_page(
    qs, number: int, *, per_page: int = LIST_PAGE, cap: int | None = None, related=()
) -> CappedPage:
    """One page of ``qs`` and its total counted up to ``cap``.

    The page's ids are chosen first, by a query that joins only what the filters need; the rows
    and their ``related`` objects are then loaded for those ids alone. A planner misjudging a
    search would otherwise join every matching deal before sorting.
    """
    cap = COUNT_CAP if cap is None else cap
    number = max(1, number)
    offset = (number - 1) * per_page
    ids = list(qs.values_list("id", flat=True)[offset : offset + per_page + 1])
    shown = ids[:per_page]
    loaded = qs.model.objects.filter(id__in=shown).select_related(*related).in_bulk()
    rows = [loaded[i] for i in shown if i in loaded]
    total = qs.order_by().values("id")[: cap + 1].count()
    return CappedPage(rows, number, per_page, min(total, cap), total > cap, len(ids) > per_page)


@login_required
def deal_list(request):
    user = request.user
    form = DealFilterForm(user, request.GET)
    form.is_valid()
    data = form.cleaned_data
    qs = visible_deals(user)
    q = (data.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(company__name__icontains=q))
    if data.get("pipeline"):
        qs = qs.filter(pipeline_id=data["pipeline"].id)
    if data.get("stage"):
        qs = qs.filter(stage_id=data["stage"].id)
    if data.get("status"):
        qs = qs.filter(stage__kind=data["status"])
    if data.get("owner"):
        qs = qs.filter(owner_id=data["owner"].id)
    if data.get("team"):
        qs = qs.filter(owner_id__in=team_member_ids(data["team"]))
    if data.get("product"):
        qs = qs.filter(product_id=data["product"].id)
    sort = data.get("sort") or "-stage_date"
    desc = sort.startswith("-")
    order = [("-" if desc else "") + f for f in SORTS[sort.lstrip("-")]]
    order.append("-id" if desc else "id")
    qs = qs.order_by(*order)
    page = capped_page(
        qs,
        _int(request.GET.get("page")) or 1,
        related=("pipeline", "stage", "owner", "company", "contact"),
    )
    now = timezone.localtime()
    for d in page.rows:
        d.days_in_stage = rules.days_in_stage(d.stage_entered_at, now)
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    filtered = any(
        data.get(k) for k in ("q", "pipeline", "stage", "status", "owner", "team", "product")
    )
    return render(
        request,
        "sales/deal_list.html",
        {
            "form": form,
            "page": page,
            "query": params.urlencode(),
            "sort": sort,
            "sort_query": sort_params.urlencode(),
            "q": q,
            "filtered": filtered,
            "may_create": may_write(user) and assignable_users(user).exists(),
            "count_cap": COUNT_CAP,
        },
    )


# --- Create and edit ------------------------------------------------------------------------


@login_required
def deal_create(request):
    user = request.user
    if not may_write(user):
        raise Http404
    initial = {}
    company_id = request.GET.get("company")
    contact_id = request.GET.get("contact")
    if contact_id:
        contact = access_contact(user, contact_id)
        initial["contact"] = contact
        if contact.company_id:
            initial["company"] = contact.company
    if company_id:
        initial["company"] = access_company(user, company_id)
    if assignable_users(user).filter(id=user.id).exists():
        initial["owner"] = user
    remembered = request.session.get("board_pipeline")
    if remembered and visible_pipelines(user).filter(id=remembered).exists():
        initial["pipeline"] = remembered
    form = DealForm(user, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.model_values(form.cleaned_data)
        pipeline = data.pop("pipeline")
        title = data.pop("title")
        owner = data.pop("owner")
        custom = form.custom_values(form.cleaned_data)
        try:
            deal = do_create_deal(
                user, pipeline=pipeline, title=title, owner=owner, custom=custom or None, **data
            )
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            messages.success(request, _("Deal created. Plan its first step."))
            return redirect("sales:deal_detail", deal_id=deal.id)
    return render(
        request, "sales/deal_form.html", {"form": form, "deal": None}, status=_status(form)
    )


@login_required
def deal_edit(request, deal_id: int):
    user = request.user
    deal = access_deal(user, deal_id)
    if not may_write(user):
        # The deal is visible, so not a 404: the person is told their role only reads it.
        return render(
            request, "sales/deal_form.html", {"deal": deal, "read_only": True}, status=403
        )
    form = DealForm(user, request.POST or None, instance=deal)
    if request.method == "POST" and form.is_valid():
        changes = form.model_values(form.changed_data)
        custom = form.custom_values(form.changed_data)
        try:
            if changes or custom:
                do_update_deal(user, deal, custom=custom or None, **changes)
        except DomainError as exc:
            exc.add_to_form(form)
        else:
            if changes or custom:
                messages.success(request, _("Deal saved."))
            return redirect("sales:deal_detail", deal_id=deal.id)
    deal = access_deal(user, deal_id)  # the form may have changed the instance it was given
    return render(
        request, "sales/deal_form.html", {"form": form, "deal": deal}, status=_status(form)
    )


def _status(form) -> int:
    return 422 if form.is_bound and form.errors else 200


# --- The deal page --------------------------------------------------------------------------


def _stage_panel_context(user, deal) -> dict:
    now = timezone.localtime()
    stages = list(
        visible_stages(user, include_archived=True)
        .filter(pipeline_id=deal.pipeline_id)
        .filter(Q(is_archived=False) | Q(id=deal.stage_id))
        .order_by("position", "id")
    )
    current = next((s for s in stages if s.id == deal.stage_id), deal.stage)
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    for s in open_stages:
        s.passed = current.kind == StageKind.OPEN and s.position < current.position
    return {
        "deal": deal,
        "open_stages": open_stages,
        "won_stages": [s for s in stages if s.kind == StageKind.WON],
        "lost_stages": [s for s in stages if s.kind == StageKind.LOST],
        "days_in_stage": rules.days_in_stage(deal.stage_entered_at, now),
        "writable": may_write(user),
        "loss_reasons": _loss_reasons(user) if may_write(user) else [],
        "move_next_form": (NextStepForm.if_needed(deal, place="move") if may_write(user) else None),
    }


def _deal_context(request, deal, *, limit: int = TIMELINE_PAGE) -> dict:
    user = request.user
    now = timezone.localtime()
    open_tasks = list(
        visible_tasks(user)
        .filter(deal_id=deal.id, done_at__isnull=True)
        .select_related("owner")
        .order_by("due_at", "id")
    )
    for t in open_tasks:
        t.state = str(rules.next_step_state(t.due_at, now))
    entries, has_older = deal_timeline(user, deal, limit=limit)
    ctx = _stage_panel_context(user, deal)
    ctx.update(
        {
            "open_tasks": open_tasks,
            # Completing the only open task leaves the deal without one: ask for the next.
            "complete_next_form": (
                NextStepForm(deal=deal, place="complete")
                if len(open_tasks) == 1 and may_write(user) and not deal.stage.is_closed
                else None
            ),
            "next_task": open_tasks[0] if open_tasks else None,
            "no_next_step": not open_tasks and not deal.stage.is_closed,
            "entries": entries,
            "has_older": has_older,
            "timeline_limit": limit,
            "next_limit": limit + TIMELINE_PAGE,
            "deal_url": reverse("sales:deal_detail", args=[deal.id]),
            "company_link": deal.company_id is not None
            and visible_companies(user).filter(id=deal.company_id).exists(),
            "contact_link": deal.contact_id is not None
            and visible_contacts(user).filter(id=deal.contact_id).exists(),
        }
    )
    return ctx


@login_required
def deal_detail(request, deal_id: int):
    user = request.user
    deal = access_deal(user, deal_id)
    limit = min(max(_int(request.GET.get("limit")) or TIMELINE_PAGE, TIMELINE_PAGE), 1000)
    ctx = _deal_context(request, deal, limit=limit)
    part = request.GET.get("part")
    if part == "live":
        return render(request, "sales/_deal_live.html", ctx)
    if part == "timeline":
        return render(request, "sales/_deal_timeline.html", ctx)
    if ctx["writable"]:
        ctx["comm_form"] = CommunicationForm(initial={"deal": deal.id})
        ctx["comm_next_form"] = NextStepForm.if_needed(deal, place="comm")
        ctx["task_form"] = TaskForm(user, deal=deal)
    return render(request, "sales/deal_detail.html", ctx)
