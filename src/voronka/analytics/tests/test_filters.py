"""The funnel by product and by client segment: on the page, in its CSV and over the API; a
product or segment the workspace does not keep is an error naming the field, never another
workspace's figures."""

from datetime import timedelta
from html import unescape

import pytest

from voronka.api.tests.caller import Caller
from voronka.clients.actions import do_create_company, do_create_segment
from voronka.sales.actions import do_create_product, do_move_deal, do_update_product
from voronka.testing.factories import make_deal

pytestmark = pytest.mark.django_db


class World:
    """Products «Лицензии» and «Внедрение», segments «Розница» and «Опт» (and one client in
    each), and deals of every kind moved to qualification, most of them on to a meeting."""

    def __init__(self, org, capture):
        self.org = org
        head = org.head
        self.licences = do_create_product(head, name="Лицензии")
        self.rollout = do_create_product(head, name="Внедрение")
        self.retail = do_create_segment(head, name="Розница")
        self.wholesale = do_create_segment(head, name="Опт")
        self.shop = do_create_company(head, name="Магазин", segment=self.retail)
        self.depot = do_create_company(head, name="База", segment=self.wholesale)
        qual = org.stage("Квалификация")
        meeting = org.stage("Встреча назначена")
        # (owner, product, client, deals, of them moved on to a meeting)
        plan = [
            (org.manager1, self.licences, self.shop, 6, 5),
            (org.manager2, self.licences, self.shop, 6, 5),
            (org.manager3, self.licences, self.shop, 6, 1),  # weak with licences only
            (org.manager1, self.rollout, self.depot, 6, 6),
            (org.manager2, self.rollout, self.depot, 6, 6),
            (org.manager3, self.rollout, self.depot, 6, 6),
            (org.manager4, None, None, 3, 0),  # no product, no client
        ]
        with capture(execute=True):  # the rollups follow each write, as in production
            for owner, product, company, count, moved in plan:
                for i in range(count):
                    deal = make_deal(
                        owner,
                        org.pipeline,
                        owner=owner,
                        days_ago=10,
                        amount=1000,
                        product=product,
                        company=company,
                    )
                    at = deal.stage_entered_at + timedelta(hours=20)
                    do_move_deal(owner, deal, qual, at=at)
                    if i < moved:
                        do_move_deal(owner, deal, meeting, at=at + timedelta(hours=4))


@pytest.fixture
def world(org, django_capture_on_commit_callbacks):
    return World(org, django_capture_on_commit_callbacks)


def entered(response, stage="Квалификация") -> int:
    return {r.stage.name: r.entered for r in response.context["report"].rows}[stage]


def name_of(user) -> str:
    return user.get_full_name() or user.username


# The page


def test_choosing_a_product_or_a_segment_narrows_the_funnel(world, client):
    w = world
    client.force_login(w.org.head)
    assert entered(client.get("/analytics/funnel/")) == 39
    assert entered(client.get(f"/analytics/funnel/?product={w.licences.id}")) == 18
    assert entered(client.get(f"/analytics/funnel/?product={w.rollout.id}")) == 18
    assert entered(client.get("/analytics/funnel/?product=0")) == 3
    assert entered(client.get(f"/analytics/funnel/?segment={w.wholesale.id}")) == 18
    assert entered(client.get("/analytics/funnel/?segment=0")) == 3
    both = client.get(f"/analytics/funnel/?product={w.licences.id}&segment={w.wholesale.id}")
    assert entered(both) == 0
    assert not both.context["form"].errors


def test_the_heading_names_the_chosen_product_and_segment(world, client):
    w = world
    client.force_login(w.org.head)
    html = client.get(
        f"/analytics/funnel/?product={w.licences.id}&segment={w.retail.id}"
    ).content.decode()
    assert "Продукт:</span> <strong>Лицензии</strong>" in html
    assert "Сегмент клиентов:</span> <strong>Розница</strong>" in html
    html = client.get("/analytics/funnel/?product=0").content.decode()
    assert "Продукт:</span> <strong>Без продукта</strong>" in html


def test_the_csv_links_carry_the_filters_and_the_csv_honours_them(world, client):
    w = world
    client.force_login(w.org.head)
    query = f"product={w.licences.id}&segment={w.retail.id}"
    html = unescape(client.get(f"/analytics/funnel/?{query}").content.decode())
    for table in ("funnel", "losses", "cohorts"):
        assert f'href="?{query}&format=csv&table={table}"' in html
    text = client.get(f"/analytics/funnel/?{query}&format=csv&table=funnel").content
    assert "Квалификация,18," in text.decode("utf-8-sig")
    text = client.get("/analytics/funnel/?product=0&format=csv&table=funnel").content
    assert "Квалификация,3," in text.decode("utf-8-sig")


def test_the_bottleneck_compares_a_manager_with_peers_under_the_same_product(world, client):
    w = world
    client.force_login(w.org.head)
    weak = name_of(w.org.manager3)
    sentences = client.get(f"/analytics/funnel/?product={w.licences.id}").context["report"]
    assert sentences.sentences[0] == (
        f"{weak}: «Квалификация» → «Встреча назначена» 17% против 83% у остальных"
    )
    with_rollout = client.get(f"/analytics/funnel/?product={w.rollout.id}").context["report"]
    assert not any(s.startswith(f"{weak}:") for s in with_rollout.sentences)


def test_a_manager_filtering_by_product_sees_only_their_own_deals_of_it(world, client):
    w = world
    client.force_login(w.org.manager3)
    assert entered(client.get(f"/analytics/funnel/?product={w.licences.id}")) == 6
    assert entered(client.get("/analytics/funnel/?product=0")) == 0


def test_products_and_segments_are_offered_in_the_heads_order_archived_ones_marked(world, client):
    w = world
    do_update_product(w.org.head, w.licences, is_archived=True)
    client.force_login(w.org.head)
    response = client.get("/analytics/funnel/")
    form = response.context["form"]
    assert [label for _v, label in form.fields["product"].choices] == [
        "Все",
        "Без продукта",
        "Внедрение",
        "Лицензии (в архиве)",
    ]
    assert [label for _v, label in form.fields["segment"].choices] == [
        "Все",
        "Без сегмента",
        "Розница",
        "Опт",
    ]
    # The archived product's deals are still there to be counted.
    assert entered(client.get(f"/analytics/funnel/?product={w.licences.id}")) == 18


@pytest.mark.parametrize(
    "field, label, message",
    [
        ("product", "Продукт", "Выберите продукт из списка."),
        ("segment", "Сегмент клиентов", "Выберите сегмент клиентов из списка."),
    ],
)
def test_a_product_or_segment_of_another_workspace_is_a_form_error_naming_the_field(
    world, other_org, client, field, label, message
):
    foreign = {
        "product": do_create_product(other_org.head, name="Чужой продукт"),
        "segment": do_create_segment(other_org.head, name="Чужой сегмент"),
    }[field]
    client.force_login(world.org.head)
    for value in (foreign.id, 987654321, "abc"):
        response = client.get(f"/analytics/funnel/?{field}={value}")
        assert response.status_code == 200
        assert response.context["form"].errors[field] == [message]
        assert entered(response) == 0  # nobody's figures, never someone else's
        assert f"<li>{label}: {message}</li>" in response.content.decode()
    csv = client.get(f"/analytics/funnel/?{field}={foreign.id}&format=csv&table=funnel")
    assert "Квалификация,0," in csv.content.decode("utf-8-sig")


def test_a_workspace_without_products_shows_no_product_select_but_still_checks_the_id(
    org, other_org, client
):
    foreign = do_create_product(other_org.head, name="Чужой продукт")
    client.force_login(org.head)
    response = client.get("/analytics/funnel/")
    html = response.content.decode()
    assert 'type="hidden" name="product"' in html
    assert 'select name="product"' not in html
    wrong = client.get(f"/analytics/funnel/?product={foreign.id}")
    assert "product" in wrong.context["form"].errors


# The API


def test_the_api_funnel_and_kpis_narrow_by_product_and_segment(world):
    w = world
    caller = Caller(w.org.head)

    def qualified(**params) -> int:
        body = caller.get("/analytics/funnel", **params).json()
        return {s["name"]: s["entered"] for s in body["stages"]}["Квалификация"]

    assert qualified() == 39
    assert qualified(product_id=w.licences.id) == 18
    assert qualified(product_id=0) == 3
    assert qualified(segment_id=w.retail.id) == 18
    assert qualified(segment_id=0) == 3
    assert qualified(product_id=w.rollout.id, segment_id=w.retail.id) == 0
    weak = caller.get("/analytics/funnel", product_id=w.licences.id).json()["bottlenecks"][0]
    assert weak["owner_id"] == w.org.manager3.id

    def new_deals(**params) -> int:
        values = caller.get("/analytics/kpis", per="company", codes="new_deals", **params).json()[
            "values"
        ]
        return sum(v["value"] for v in values)

    assert new_deals() == 39
    assert new_deals(product_id=w.rollout.id) == 18
    assert new_deals(segment_id=0) == 3
    # An archived product may still be named: its deals are in the figures.
    do_update_product(w.org.head, w.rollout, is_archived=True)
    assert new_deals(product_id=w.rollout.id) == 18


@pytest.mark.parametrize("path", ["/analytics/funnel", "/analytics/kpis"])
@pytest.mark.parametrize("field", ["product_id", "segment_id"])
def test_a_product_or_segment_the_workspace_does_not_keep_is_422_naming_it(
    world, other_org, path, field
):
    foreign = {
        "product_id": do_create_product(other_org.head, name="Чужой продукт"),
        "segment_id": do_create_segment(other_org.head, name="Чужой сегмент"),
    }[field]
    caller = Caller(world.org.head)
    for value in (foreign.id, 987654321, -1, "abc"):
        response = caller.get(path, **{field: value})
        assert response.status_code == 422, (value, response.content)
        assert list(response.json()["fields"]) == [field]


def test_the_openapi_schema_describes_the_product_and_segment_filters(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/analytics/funnel", "/api/v1/analytics/kpis"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        for name in ("product_id", "segment_id"):
            assert params[name]["in"] == "query"
            assert params[name]["required"] is False
            text = str(params[name])
            assert "'minimum': 0" in text
            assert "0: the" in params[name]["description"]
