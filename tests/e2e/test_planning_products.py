"""The head sets a monthly target for one product and reads its decomposition: the arithmetic
names the product and rests on that product's deals; a manager sees the product's plan and
fact on the plan-versus-fact page."""

from voronka.planning.tests.helpers import walk
from voronka.sales.actions import do_create_product


def test_the_head_sets_a_product_target_and_reads_its_decomposition(org, login):
    audit = do_create_product(org.head, name="Аудит")
    do_create_product(org.head, name="Внедрение")
    walk(org, org.manager1, won=10, lost_after_proposal=10, amount=200000, product=audit)
    walk(org, org.manager3, won=6, amount=100000)

    head = login(org.head)
    head.goto("/plan/")
    form = head.locator("#target-form")
    form.locator("#id_product").select_option(label="Аудит")
    form.locator("#id_amount").fill("2 000 000")
    form.locator("#id_split_method").select_option("equal")
    form.get_by_role("button", name="Поставить план").click()
    head.wait_for_url("**/plan/targets/*/")

    assert head.locator('[data-testid="target-product"]').inner_text() == "«Аудит»"
    arithmetic = head.locator("#arithmetic").inner_text()
    assert "средний чек «Аудит»" in arithmetic
    assert "сделки компании по «Аудит»" in arithmetic
    assert "по всем продуктам" in arithmetic  # calls per lead: a person's, over every product
    assert head.locator('[data-testid="total-won"]').inner_text() == "10"  # 2 000 000 ÷ 200 000
    assert head.locator('[data-testid="product-fallback"]').count() == 0
    assert head.locator(".nav-pills .nav-link.active").inner_text().strip().endswith("«Аудит»")
    head.screenshot(path="test-artifacts/planning-product-1440.png", full_page=True)
    head.set_viewport_size({"width": 390, "height": 844})
    head.screenshot(path="test-artifacts/planning-product-390.png", full_page=True)
    head.set_viewport_size({"width": 1440, "height": 900})
    # A target for the pipeline itself (all its products): a section of its own on plan vs fact.
    head.goto("/plan/")
    form = head.locator("#target-form")
    form.locator("#id_pipeline").select_option(label=org.pipeline.name)
    form.locator("#id_amount").fill("3 000 000")
    form.locator("#id_split_method").select_option("equal")
    form.get_by_role("button", name="Поставить план").click()
    head.wait_for_url("**/plan/targets/*/")
    head.goto("/plan/fact/")
    pipeline_section = head.locator(f'section[data-pipeline="{org.pipeline.id}"]')
    assert f"Воронка «{org.pipeline.name}»" in pipeline_section.locator(".card-title").inner_text()
    assert pipeline_section.locator("tbody tr").count() == 4
    head.screenshot(path="test-artifacts/planning-product-fact-1440.png", full_page=True)

    manager = login(org.manager1, viewport=(390, 844))
    manager.goto("/plan/fact/")
    section = manager.locator("section[data-product]")
    assert "Продукт «Аудит»" in section.locator(".card-title").inner_text()
    assert section.locator("tbody tr").count() == 1
    assert "не делятся" in section.locator(".card-footer").inner_text()
    manager.screenshot(path="test-artifacts/planning-product-fact-390.png", full_page=True)
