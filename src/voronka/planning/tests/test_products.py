"""A target for one product: planned from that product's deals (with a fallback to every
product's history when it has too few), measured against that product's deals only."""

from decimal import Decimal

import pytest
from django.utils import timezone

from voronka.api.tests.caller import Caller
from voronka.core.errors import Invalid
from voronka.planning import rules
from voronka.planning.actions import do_set_target
from voronka.planning.models import Scope, Target
from voronka.planning.plans import plan_fact, target_plan
from voronka.sales.actions import (
    do_create_product,
    do_delete_product,
    do_move_deal,
    do_update_product,
)
from voronka.sales.models import Product
from voronka.testing.factories import make_deal

from .helpers import this_month, walk


def target_for(org, product, amount=1000000, **extra):
    extra.setdefault("scope", Scope.COMPANY)
    extra.setdefault("split_method", "equal")
    return do_set_target(
        org.head,
        period_kind="month",
        period_start=this_month(),
        amount=amount,
        product=product,
        **extra,
    )


@pytest.fixture
def audit(org):
    return do_create_product(org.head, name="Аудит")


# -- The fallback, as plain rules ------------------------------------------------------------


def test_a_product_with_enough_deals_plans_from_its_own_and_with_too_few_from_every_product():
    own = [("manager", Decimal("0.9"), 2), ("team", None, 0), ("company", Decimal("0.2"), 12)]
    every = (rules.ALL_PRODUCTS, Decimal("0.5"), 40)
    chosen = rules.choose([*own, every])
    assert (chosen.value, chosen.level, chosen.sample) == (Decimal("0.2"), "company", 12)

    thin = [("manager", Decimal("0.9"), 2), ("team", None, 0), ("company", Decimal("0.2"), 3)]
    chosen = rules.choose([*thin, every])
    assert (chosen.value, chosen.level, chosen.sample) == (Decimal("0.5"), rules.ALL_PRODUCTS, 40)


# -- The decomposition from what the product's deals observed --------------------------------


def test_a_product_target_is_decomposed_from_that_products_conversions_and_average_deal(org, audit):
    walk(org, org.manager1, won=10, lost_after_proposal=10, amount=200000, product=audit)
    walk(org, org.manager2, won=10, amount=100000)
    tp = target_plan(target_for(org, audit, amount=2000000), today=timezone.localdate())
    a = tp.assumptions
    assert a.average_deal.value == Decimal(200000)
    assert (a.average_deal.level, a.average_deal.sample) == ("company", 10)
    proposal = [s.key for s in a.stages].index(str(org.stage("КП отправлено").id))
    assert a.conversions[proposal].value == Decimal("0.5")  # 10 of the 20 «Аудит» proposals
    assert a.conversions[proposal].level == "company"
    # Calls are a person's: per lead over every product (2 a deal), not all calls ÷ «Аудит» leads.
    assert (a.calls_per_lead.value, a.calls_per_lead.sample) == (Decimal(2), 30)
    assert tp.overall.won == 10
    assert tp.overall.stages[proposal][1] == 20

    everything = target_plan(target_for(org, None, amount=2000000), today=timezone.localdate())
    assert everything.assumptions.average_deal.value == Decimal(150000)


def test_a_product_with_too_little_history_falls_back_to_every_products_and_the_page_says_so(
    org, audit, client
):
    walk(org, org.manager1, won=10, lost_after_proposal=10)
    walk(org, org.manager2, won=1, lost_after_proposal=1, amount=300000, product=audit)
    target = target_for(org, audit)
    a = target_plan(target, today=timezone.localdate()).assumptions
    assert a.average_deal.level == rules.ALL_PRODUCTS
    assert a.average_deal.value == Decimal(1300000) / 11
    assert {c.level for c in a.conversions} == {rules.ALL_PRODUCTS}

    client.force_login(org.head)
    html = client.get(f"/plan/targets/{target.id}/").content.decode()
    assert 'data-testid="product-fallback"' in html
    assert html.count("«Аудит»") >= 3  # the title, the first step of the arithmetic, the note
    assert 'data-testid="target-product"' in html


def test_a_split_by_past_results_of_a_product_target_weighs_that_products_revenue(org, audit):
    walk(org, org.manager1, won=10, lost_after_proposal=10, product=audit)
    walk(org, org.manager2, won=10, amount=500000)
    target = target_for(org, audit, amount=1000000, split_method="past")
    split = target_plan(target, today=timezone.localdate()).split
    assert split.amounts[org.manager1.id] == Decimal(1000000)
    assert split.amounts[org.manager2.id] == 0


# -- Setting a product target ----------------------------------------------------------------


def test_a_product_target_is_its_own_target_beside_the_one_for_all_products(org, audit):
    everything = target_for(org, None)
    first = target_for(org, audit, amount=300000)
    again = target_for(org, audit, amount=400000)
    assert everything.id != first.id == again.id
    assert Target.objects.get(id=first.id).amount == Decimal(400000)
    assert Target.objects.count() == 2


def test_an_unknown_a_foreign_or_an_archived_product_is_refused_naming_the_field(
    org, other_org, audit
):
    foreign = do_create_product(other_org.head, name="Чужой")
    unknown = Product(id=10**9, workspace_id=0, name="?")
    for product in (unknown, foreign):
        with pytest.raises(Invalid) as caught:
            target_for(org, product)
        assert set(caught.value.fields) == {"product"}
    kept = target_for(org, audit, amount=100)
    do_update_product(org.head, audit, is_archived=True)
    with pytest.raises(Invalid) as caught:
        target_for(org, audit, scope=Scope.TEAM, team=org.team1)
    assert set(caught.value.fields) == {"product"}
    assert "Аудит" in caught.value.message
    assert target_for(org, audit, amount=200).id == kept.id  # an existing target keeps it
    assert Target.objects.count() == 1


def test_a_product_with_a_target_is_archived_not_deleted(org, audit):
    target_for(org, audit)
    with pytest.raises(Invalid) as caught:
        do_delete_product(org.head, audit)
    assert caught.value.code == "in_use"
    assert Product.objects.filter(id=audit.id).exists()


def test_the_api_takes_a_product_and_refuses_an_unknown_foreign_or_archived_one(
    org, other_org, audit
):
    head = Caller(org.head)
    body = {"period_kind": "month", "period_start": str(this_month()), "scope": "company"}
    created = head.post("/planning/targets", {**body, "amount": "500000", "product_id": audit.id})
    assert created.status_code == 201, created.content
    assert created.json()["product_id"] == audit.id
    assert head.get(f"/planning/targets/{created.json()['id']}").json()["product_id"] == audit.id
    foreign = do_create_product(other_org.head, name="Чужой")
    archived = do_create_product(org.head, name="Старый")
    do_update_product(org.head, archived, is_archived=True)
    for product_id in (10**9, foreign.id, archived.id):
        refused = head.post("/planning/targets", {**body, "amount": "1", "product_id": product_id})
        assert refused.status_code == 422, refused.content
        assert "product" in refused.json()["fields"]
    assert Target.objects.count() == 1


def test_the_head_sets_a_product_target_from_the_page(org, audit, client):
    client.force_login(org.head)
    page = client.get("/plan/").content.decode()
    assert 'name="product"' in page and "Аудит" in page
    response = client.post(
        "/plan/",
        {
            "period_kind": "month",
            "period_start": this_month().isoformat(),
            "scope": "company",
            "product": audit.id,
            "amount": "300 000",
            "window_days": "90",
            "split_method": "equal",
        },
    )
    assert response.status_code == 302
    assert Target.objects.get().product == audit


# -- Plan versus fact ------------------------------------------------------------------------


def sell(org, owner, amount, product=None):
    deal = make_deal(owner, org.pipeline, owner=owner, amount=Decimal(amount), product=product)
    do_move_deal(owner, deal, org.stage("Успешно"), at=timezone.now())
    return deal


def test_a_product_targets_fact_counts_only_that_products_deals(
    org, audit, django_capture_on_commit_callbacks
):
    walk(org, org.manager1, won=10, lost_after_proposal=10, days_ago=40)
    with django_capture_on_commit_callbacks(execute=True):
        sell(org, org.manager1, 300000, product=audit)
        sell(org, org.manager1, 200000, product=audit)
        sell(org, org.manager1, 700000)
        sell(org, org.manager2, 50000)
    everything = target_for(org, None, amount=4000000)
    product_target = target_for(org, audit, amount=2000000)
    today = timezone.localdate()
    report = plan_fact(org.workspace, "month", this_month(), today, None)

    main = {r.manager.id: r for r in report.rows}
    assert main[org.manager1.id].paces["revenue"].fact == Decimal(1200000)
    assert main[org.manager1.id].target == everything
    (product,) = report.products
    assert product.product == audit
    rows = {r.manager.id: r for r in product.rows}
    assert set(rows) == {org.manager1.id, org.manager2.id, org.manager3.id, org.manager4.id}
    mine = rows[org.manager1.id]
    assert mine.target == product_target
    assert mine.paces["revenue"].fact == Decimal(500000)
    assert mine.paces["won"].fact == 2
    assert mine.paces["leads"].fact == 2
    assert mine.plan["revenue"] == Decimal(500000)
    assert set(mine.paces) == {"revenue", "won", "leads"}  # calls and meetings are a person's
    assert rows[org.manager2.id].paces["revenue"].fact == 0

    seen = plan_fact(org.workspace, "month", this_month(), today, frozenset({org.manager2.id}))
    assert [r.manager for r in seen.products[0].rows] == [org.manager2]


def test_the_plan_fact_page_and_api_show_the_product(
    org, audit, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sell(org, org.manager1, 300000, product=audit)
    target_for(org, audit, amount=600000)
    client.force_login(org.manager1)
    html = client.get("/plan/fact/").content.decode()
    assert f'data-product="{audit.id}"' in html
    assert "«Аудит»" in html
    body = Caller(org.manager1).get("/planning/plan-fact").json()
    (product,) = body["products"]
    assert product["product_id"] == audit.id
    (row,) = product["rows"]
    assert row["manager_id"] == org.manager1.id
    revenue = next(m for m in row["metrics"] if m["metric"] == "revenue")
    assert (Decimal(revenue["fact"]), Decimal(revenue["plan"])) == (300000, 150000)


def test_a_period_without_product_targets_has_no_product_section(org, client):
    target_for(org, None)
    report = plan_fact(org.workspace, "month", this_month(), timezone.localdate(), None)
    assert report.products == []


def test_a_pipeline_target_and_a_product_in_a_pipeline_get_their_own_sections(
    org, audit, client, django_capture_on_commit_callbacks
):
    from voronka.testing.factories import make_pipeline

    partners = make_pipeline(org.workspace, name="Партнёры", is_inbound=False)
    won = partners.stages.get(kind="won")
    with django_capture_on_commit_callbacks(execute=True):
        sell(org, org.manager1, 700000, product=audit)  # the main pipeline: not counted below
        for amount, product in ((400000, audit), (100000, None)):
            deal = make_deal(
                org.manager1, partners, owner=org.manager1, amount=Decimal(amount), product=product
            )
            do_move_deal(org.manager1, deal, won, at=timezone.now())
    target_for(org, None, amount=2000000, pipeline=partners)
    target_for(org, audit, amount=800000, pipeline=partners)
    report = plan_fact(org.workspace, "month", this_month(), timezone.localdate(), None)

    assert report.products == []
    whole, product = report.pipelines
    assert (whole.pipeline, whole.product, product.pipeline, product.product) == (
        partners,
        None,
        partners,
        audit,
    )
    mine = next(r for r in whole.rows if r.manager == org.manager1)
    assert (mine.paces["revenue"].fact, mine.paces["won"].fact) == (Decimal(500000), 2)
    assert mine.plan["revenue"] == Decimal(500000)  # a quarter of 2,000,000
    mine = next(r for r in product.rows if r.manager == org.manager1)
    assert mine.paces["revenue"].fact == Decimal(400000)

    client.force_login(org.head)
    html = client.get("/plan/fact/").content.decode()
    assert html.count(f'data-pipeline="{partners.id}"') == 2
    assert "Воронка «Партнёры»" in html and "Воронка «Партнёры», продукт «Аудит»" in html
    body = Caller(org.head).get("/planning/plan-fact").json()
    assert [(p["pipeline_id"], p["product_id"]) for p in body["pipelines"]] == [
        (partners.id, None),
        (partners.id, audit.id),
    ]
