from decimal import Decimal

from voronka.planning.actions import do_set_target
from voronka.planning.models import Scope, Target

from .helpers import this_month, walk


def set_company_target(org, amount=1000000):
    return do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.COMPANY,
        amount=amount,
        split_method="equal",
    )


def test_the_head_sets_a_monthly_target_from_the_page_and_sees_its_arithmetic(org, client):
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    client.force_login(org.head)
    response = client.post(
        "/plan/",
        {
            "period_kind": "month",
            "period_start": this_month().isoformat(),
            "scope": "company",
            "amount": "1 000 000",
            "window_days": "90",
            "split_method": "equal",
        },
    )
    target = Target.objects.get()
    assert response.status_code == 302
    assert target.amount == Decimal(1000000)
    html = client.get(response.url).content.decode()
    assert "won deal" in html or "выигранн" in html
    assert 'id="arithmetic"' in html
    assert html.count('data-manager="') == 4


def test_a_bad_target_is_shown_with_the_field_named(org, client):
    client.force_login(org.head)
    response = client.post(
        "/plan/",
        {
            "period_kind": "month",
            "period_start": this_month().isoformat(),
            "scope": "company",
            "amount": "0",
            "window_days": "90",
            "split_method": "equal",
        },
    )
    assert response.status_code == 422
    assert "is-invalid" in response.content.decode()
    assert not Target.objects.exists()


def test_an_override_recomputes_the_decomposition_in_place(org, client):
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    target = set_company_target(org)
    stage = org.stage("КП отправлено")
    client.force_login(org.head)
    response = client.post(
        f"/plan/targets/{target.id}/override/",
        {"key": f"conversion:{stage.id}", "value": "25"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('\n<div id="decomposition">') or 'id="decomposition"' in html[:200]
    assert "25%" in html
    bad = client.post(
        f"/plan/targets/{target.id}/override/",
        {"key": f"conversion:{stage.id}", "value": "250"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422
    assert "invalid-feedback" in bad.content.decode()


def test_a_zero_conversion_says_the_plan_is_impossible(org, client):
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    target = set_company_target(org)
    stage = org.stage("Квалификация")
    client.force_login(org.head)
    html = client.post(
        f"/plan/targets/{target.id}/override/",
        {"key": f"conversion:{stage.id}", "value": "0"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'data-testid="impossible"' in html


def test_a_split_that_misses_the_target_says_by_how_much(org, client):
    target = do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.TEAM,
        team=org.team1,
        amount=1000000,
    )
    client.force_login(org.head)
    html = client.post(
        f"/plan/targets/{target.id}/split/",
        {"method": "share", f"value_{org.manager1.id}": "50", f"value_{org.manager2.id}": "30"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'data-testid="split-gap"' in html
    assert "200" in html


def test_a_manager_sees_only_their_own_row_and_cannot_change_the_target(org, client):
    target = set_company_target(org)
    client.force_login(org.manager2)
    html = client.get(f"/plan/targets/{target.id}/").content.decode()
    assert f'data-manager="{org.manager2.username}"' in html
    assert html.count('data-manager="') == 1
    assert 'data-testid="target-amount"' not in html
    assert 'id="target-form"' not in html
    heading = html.split('id="target-title">')[1].split("</h2>")[0]
    assert ":" not in heading.split("<span")[0], "no colon before a total the manager does not see"
    assert 'id="arithmetic"' not in html
    assert '<div class="card-body">\n  </div>' not in html
    stage = org.stage("Квалификация")
    posted = client.post(
        f"/plan/targets/{target.id}/override/", {"key": f"conversion:{stage.id}", "value": "1"}
    )
    assert posted.status_code == 404
    assert not target.overrides.exists()


def test_a_manager_cannot_open_a_colleagues_own_target(org, client):
    theirs = do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.MANAGER,
        manager=org.manager1,
        amount=100,
    )
    client.force_login(org.manager2)
    assert client.get(f"/plan/targets/{theirs.id}/").status_code == 404
    client.force_login(org.senior1)
    assert client.get(f"/plan/targets/{theirs.id}/").status_code == 200
    client.force_login(org.senior2)
    assert client.get(f"/plan/targets/{theirs.id}/").status_code == 404


def test_plan_vs_fact_shows_a_senior_their_group_and_the_thresholds(org, client):
    set_company_target(org)
    client.force_login(org.senior1)
    html = client.get("/plan/fact/").content.decode()
    assert 'id="thresholds"' in html
    shown = {org.manager1.username, org.manager2.username}
    for person in (org.manager1, org.manager2, org.manager3, org.manager4):
        assert (f'data-manager="{person.username}"' in html) == (person.username in shown)
    assert 'id="leaderboard"' in html


def test_without_a_target_the_pages_say_what_to_do_next(org, client):
    org.head.language = "en"
    org.head.save()
    client.force_login(org.head)
    html = client.get("/plan/fact/").content.decode()
    assert "Set a monthly target" in html
    assert f'href="/plan/?kind=month&amp;start={this_month().isoformat()}"' in html
    html = client.get("/plan/").content.decode()
    assert "No target for this period yet" in html
    assert 'id="target-form"' in html


def test_the_assistant_has_no_plan_pages(org, client):
    client.force_login(org.assistant)
    assert client.get("/plan/").status_code == 404
    assert client.get("/plan/fact/").status_code == 404


def test_the_arithmetic_rounds_its_numbers_rather_than_cutting_digits_off():
    from django.utils import translation

    from voronka.planning.views import num, pct

    with translation.override("ru"):
        assert num(Decimal("49.05"), 1) == "49,1"
        assert num(Decimal("2.99")) == "3"
        assert pct(Decimal("0.79487")) == "79,5%"
        assert num(Decimal("6375.0"), 1) == "6\xa0375"


def test_the_arithmetic_counts_in_russian_plural_forms(org, client):
    from django.utils import timezone, translation

    from voronka.planning.plans import target_plan
    from voronka.planning.views import counted

    with translation.override("ru"):
        assert counted("leads", 1493) == "1\xa0493 лида"
        assert counted("days", 21) == "21 рабочий день"
        assert counted("won", 3) == "3 выигранные сделки"
        assert counted("calls", 6376) == "6\xa0376 звонков"
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    target = set_company_target(org)
    org.head.language = "ru"
    org.head.save(update_fields=["language"])
    client.force_login(org.head)
    html = client.get(f"/plan/targets/{target.id}/").content.decode()
    days = target_plan(target, today=timezone.localdate()).working_days
    with translation.override("ru"):
        assert f"÷ {counted('days', days)} = " in html


def test_the_totals_group_their_thousands_as_the_arithmetic_does(org, client):
    import re

    walk(org, org.manager1, won=10, lost_after_proposal=10)
    target = set_company_target(org, amount=100_000_000)
    org.head.language = "ru"
    org.head.save(update_fields=["language"])
    client.force_login(org.head)
    html = client.get(f"/plan/targets/{target.id}/").content.decode()
    calls = re.search(r'data-testid="total-calls">([^<]+)<', html).group(1)
    assert re.fullmatch(r"\d{1,3}(\xa0\d{3})+", calls), calls


def test_a_plan_far_above_a_managers_usual_calls_a_day_is_flagged(org, client):
    walk(org, org.manager1, won=10, lost_after_proposal=10)  # 40 calls over the window
    own = do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        scope=Scope.MANAGER,
        manager=org.manager1,
        amount=300000,
    )
    client.force_login(org.head)
    html = client.get(f"/plan/targets/{own.id}/").content.decode()
    assert 'data-testid="pace-warning"' not in html  # three won deals: about their usual pace
    big = set_company_target(org, amount=10000000)
    html = client.get(f"/plan/targets/{big.id}/").content.decode()
    warning = html.split('data-testid="pace-warning"')[1].split("</div>")[0]
    assert str(org.manager1) in warning
    row = html.split(f'data-manager="{org.manager1.username}"')[1].split("</tr>")[0]
    assert 'data-testid="pace"' in row and "×" in row


def test_the_pace_warning_names_the_furthest_few_and_counts_the_rest(org, client, monkeypatch):
    from voronka.planning import views

    monkeypatch.setattr(views, "NAMED_STRETCHES", 2)
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    target = set_company_target(org, amount=10000000)  # every manager far above their pace
    client.force_login(org.head)
    html = client.get(f"/plan/targets/{target.id}/").content.decode()
    warning = html.split('data-testid="pace-warning"')[1].split("</div>")[0]
    managers = [org.manager1, org.manager2, org.manager3, org.manager4]
    named = [m for m in managers if str(m) in warning]
    # Those who made no calls at all come first; manager1, who made some, is among the rest.
    assert len(named) == 2 and org.manager1 not in named
    assert "и ещё 2" in warning
    assert html.count('data-testid="pace"') == 4  # the table marks every one
