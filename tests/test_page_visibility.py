"""Every page, walked with every role: nothing outside the role's visibility and nothing of
another workspace is shown, linked or reachable; an invisible record answers 404, never 403."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from voronka.api.tests.world import expected_visible
from voronka.testing.fixtures import ROLES

#: The URL parameter that names a client/sales record, and the kind of record it names.
RECORD_PARAMS = {
    "deal_id": "deals",
    "company_id": "companies",
    "contact_id": "contacts",
    "task_id": "tasks",
    "comm_id": "communications",
}
#: Pages that change a record: absent for a role that may not write.
WRITE_SUFFIXES = ("edit/", "move/", "complete/", "comment/", "snooze/")
#: Pages for the head of sales and the owner only, by the prefix of their path.
SETTINGS_PREFIXES = ("settings/",)
#: Routes without a record parameter that the walk opens as lists, and the links it checks there.
LIST_PAGES = [
    "/board/",
    "/deals/",
    "/deals/?q=Сделка",
    "/companies/",
    "/contacts/",
    "/tasks/",
    "/tasks/?state=all",
    "/my-day/",
    "/deals/?status=won",
    "/deals/?status=lost",
    "/inbox/",
    "/inbox/?state=all",
]
LINKS = {
    "deals": re.compile(r'href="/deals/(\d+)/"'),
    "companies": re.compile(r'href="/companies/(\d+)/"'),
    "contacts": re.compile(r'href="/contacts/(\d+)/"'),
}


def _routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _record_routes():
    out = []
    for path, _pattern in _routes():
        params = re.findall(r"<int:(\w+)>", path)
        if len(params) == 1 and params[0] in RECORD_PARAMS and not path.startswith("api/"):
            out.append((path, params[0]))
    return out


def _url(path: str, param: str, value: int) -> str:
    return "/" + path.replace(f"<int:{param}>", str(value))


@pytest.fixture
def org(shared_orgs):
    return shared_orgs[0]


@pytest.fixture
def other_org(shared_orgs):
    return shared_orgs[1]


def test_the_walk_reaches_every_page_of_every_record_kind():
    kinds = {RECORD_PARAMS[param] for _path, param in _record_routes()}
    assert kinds == set(RECORD_PARAMS.values())


@pytest.mark.parametrize("role", ROLES)
def test_record_pages_answer_404_for_what_the_role_may_not_see(role, worlds, client):
    world, foreign = worlds
    user = getattr(world.org, role)
    client.force_login(user)
    visible = expected_visible(user, world)
    for path, param in _record_routes():
        kind = RECORD_PARAMS[param]
        for obj in getattr(world, kind) + getattr(foreign, kind):
            url = _url(path, param, obj.id)
            response = client.get(url)
            if obj.id in visible[kind] and obj in getattr(world, kind):
                # A communication without a recording has none to download, and the quality
                # controller, who reviews but changes nothing, has no edit forms: 404 is right.
                no_page = path.endswith("recording/") or (
                    role == "qc" and path.endswith(WRITE_SUFFIXES)
                )
                if not no_page:
                    assert response.status_code != 404, f"{role} cannot open {url}"
                assert response.status_code < 500, url
            else:
                assert response.status_code in (404, 405), f"{role} reached {url}"
                if response.status_code == 405:
                    before = type(obj).objects.get(pk=obj.pk).updated_at
                    posted = client.post(url, {"comment": "x" * 30, "result": "done"})
                    assert posted.status_code == 404, f"{role} posted to {url}"
                    assert type(obj).objects.get(pk=obj.pk).updated_at == before


@pytest.mark.parametrize("role", ROLES)
def test_lists_link_only_to_what_the_role_may_see(role, worlds, client):
    world, _foreign = worlds
    user = getattr(world.org, role)
    client.force_login(user)
    visible = expected_visible(user, world)
    seen = {kind: set() for kind in LINKS}
    for url in LIST_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for kind, link in LINKS.items():
            ids = {int(i) for i in link.findall(html)}
            assert ids <= visible[kind], f"{role} sees {kind} {ids - visible[kind]} on {url}"
            seen[kind] |= ids
    # The lists are not empty by accident: each shows the role's own deals.
    assert seen["deals"] == visible["deals"]


@pytest.mark.parametrize("role", ["senior1", "manager1", "assistant", "qc"])
def test_settings_pages_are_not_there_for_anyone_but_the_head_and_the_owner(role, org, client):
    client.force_login(getattr(org, role))
    for path, _pattern in _routes():
        if path.startswith(SETTINGS_PREFIXES):
            url = "/" + re.sub(r"<int:\w+>", "1", path)
            assert client.get(url).status_code == 404, f"{role} reached {url}"


#: Whose rows of the company's plan each role reads on the planning pages.
PLAN_ROWS = {
    "owner": {"manager1", "manager2", "manager3", "manager4"},
    "head": {"manager1", "manager2", "manager3", "manager4"},
    "qc": {"manager1", "manager2", "manager3", "manager4"},
    "senior1": {"manager1", "manager2"},
    "senior2": {"manager3", "manager4"},
    "manager1": {"manager1"},
    "manager2": {"manager2"},
    "manager3": {"manager3"},
    "manager4": {"manager4"},
}


@pytest.mark.parametrize("role", ROLES)
def test_plan_pages_show_each_role_only_the_managers_it_may_see(role, org, other_org, client):
    from django.utils import timezone

    from voronka.planning.actions import do_set_target
    from voronka.planning.rules import period_start

    today = period_start("month", timezone.localdate())
    target = do_set_target(
        org.head, period_kind="month", period_start=today, scope="company", amount=1000000
    )
    foreign = do_set_target(
        other_org.head, period_kind="month", period_start=today, scope="company", amount=1
    )
    client.force_login(getattr(org, role))
    pages = ["/plan/", f"/plan/targets/{target.id}/", "/plan/fact/"]
    if role == "assistant":
        assert all(client.get(url).status_code == 404 for url in pages)
        return
    names = {getattr(org, n).username: n for n in PLAN_ROWS["head"]}
    for url in pages:
        html = client.get(url).content.decode()
        shown = {names[u] for u in re.findall(r'data-manager="([^"]+)"', html) if u in names}
        assert shown == PLAN_ROWS[role], url
    assert client.get(f"/plan/targets/{foreign.id}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_conversation_pages_answer_404_for_what_the_role_may_not_see(role, org, other_org, client):
    from voronka.inbox.tests.inbox_world import chat_with, telegram_channel

    def chats(o):
        channel = telegram_channel(o)
        managers = [o.manager1, o.manager2, o.manager3, o.manager4]
        return {m.id: chat_with(channel, m, n) for n, m in enumerate(managers, 1)}

    mine, foreign = chats(org), chats(other_org)
    user = getattr(org, role)
    if role in ("owner", "head", "qc"):
        visible = {c.id for c in mine.values()}
    elif role == "senior1":
        visible = {mine[org.manager1.id].id, mine[org.manager2.id].id}
    elif role == "senior2":
        visible = {mine[org.manager3.id].id, mine[org.manager4.id].id}
    elif role.startswith("manager"):
        visible = {mine[user.id].id}
    else:
        visible = set()
    client.force_login(user)
    html = client.get("/inbox/").content.decode()
    assert {int(i) for i in re.findall(r'href="/inbox/(\d+)/"', html)} == visible
    routes = [p for p, _pattern in _routes() if "<int:conversation_id>" in p]
    assert routes
    for conversation in list(mine.values()) + list(foreign.values()):
        for path in routes:
            url = _url(path, "conversation_id", conversation.id)
            response = client.get(url)
            if conversation.id in visible:
                assert response.status_code in (200, 204, 405), url
                continue
            assert response.status_code in (404, 405), f"{role} reached {url}"
            if response.status_code == 405:
                assert client.post(url, {"text": "x", "state": "closed"}).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_channel_pages_open_only_for_their_workspaces_head_and_owner(role, org, other_org, client):
    from voronka.inbox.actions import do_create_channel
    from voronka.inbox.webhooks import keep_dead_letter

    pages = {}
    for o in (org, other_org):
        channel = do_create_channel(
            o.head, kind="generic_pbx", name="АТС", credentials={"secret": "s" * 24}
        )
        letter = keep_dead_letter(channel, b"{", {}, "the body is not JSON")
        pages[o.workspace.id] = [
            f"/settings/channels/{channel.id}/",
            f"/settings/dead-letters/{letter.id}/",
        ]
    client.force_login(getattr(org, role))
    for url in ["/settings/channels/", "/settings/dead-letters/", *pages[org.workspace.id]]:
        expected = 200 if role in ("owner", "head") else 404
        assert client.get(url).status_code == expected, f"{role} on {url}"
    for url in pages[other_org.workspace.id]:
        assert client.get(url).status_code == 404, f"{role} reached {url}"


@pytest.mark.parametrize("role", ROLES)
def test_the_funnel_analytics_show_only_the_figures_of_the_roles_scope(role, worlds, client):
    from voronka.analytics.rollups import rebuild_workspace

    world, foreign = worlds
    rebuild_workspace(world.org.workspace)
    user = getattr(world.org, role)
    client.force_login(user)
    response = client.get("/analytics/funnel/")
    if role in ("assistant", "qc"):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    from voronka.sales.models import StageChange

    visible = expected_visible(user, world)["deals"]
    sel = response.context["sel"]
    entries = StageChange.objects.filter(
        deal_id__in=visible,
        deal__pipeline_id=sel.pipeline_id,
        changed_at__date__gte=sel.since,
        changed_at__date__lte=sel.until,
    )
    assert sum(r.entered for r in response.context["report"].rows) == entries.count()
    # A manager of another workspace named in the filter shows nobody, never everyone.
    other = client.get(f"/analytics/funnel/?manager={foreign.org.manager1.id}")
    assert sum(r.entered for r in other.context["report"].rows) == 0


@pytest.mark.parametrize("role", ROLES)
def test_the_planning_meeting_links_exactly_the_deals_of_the_roles_scope(role, worlds, client):
    from voronka.activities.actions import do_flag_for_review
    from voronka.control.evaluate import evaluate_workspace
    from voronka.sales.actions import do_move_deal

    world, foreign = worlds
    for w in (world, foreign):
        invoice = w.org.stage("Счёт выставлен")
        for deal in w.deals:
            do_move_deal(w.org.head, deal, invoice)
        for comm in w.communications:
            if comm.kind == "call":
                do_flag_for_review(w.org.head, comm, note="Послушать")
        evaluate_workspace(w.org.workspace.id)
    user = getattr(world.org, role)
    client.force_login(user)
    response = client.get("/control/meeting/")
    if role not in ("owner", "head", "senior1", "senior2"):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    linked = {int(i) for i in LINKS["deals"].findall(response.content.decode())}
    # Every deal sits at «invoice issued»: the meeting lists each deal the role controls.
    assert linked == expected_visible(user, world)["deals"]
    foreign_team = foreign.org.team1.id
    assert client.get(f"/control/meeting/?team={foreign_team}").context["report"].hot.deals == []
