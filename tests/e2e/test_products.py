"""The head of sales adds a product in the settings and sets it on a deal in the browser."""

from voronka.sales.models import Deal
from voronka.testing.factories import make_deal


def test_the_head_adds_a_product_archives_a_typo_and_gives_a_deal_the_product(org, login):
    deal = make_deal(org.manager1, org.pipeline, title="Ромашка: внедрение")
    page = login(org.head)

    page.goto("/settings/products/")
    assert page.locator(".settings-tabs .nav-link.active").count() == 1
    form = page.locator("#new-entry")
    form.locator("#id_name").fill("Внедрение CRM")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    form = page.locator("#new-entry")
    form.locator("#id_name").fill("Аудт")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-entry="Внедрение CRM"]').count() == 1

    # Deleting the unused typo asks first.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(
        '[data-entry="Аудт"] button:has-text("Удалить"), '
        '[data-entry="Аудт"] button:has-text("Delete")'
    ).first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-entry="Аудт"]').count() == 0
    page.screenshot(path="test-artifacts/products-settings.png", full_page=True)

    # The deal form offers the product; the deal page shows it.
    page.goto(f"/deals/{deal.id}/edit/")
    page.locator("select[name=product]").select_option(label="Внедрение CRM")
    page.locator("form.card button[type=submit]").first.click()
    page.wait_for_url(f"**/deals/{deal.id}/")
    assert page.locator("[data-product]").inner_text().strip() == "Внедрение CRM"
    deal.refresh_from_db()
    assert deal.product.name == "Внедрение CRM"

    # The board filtered by the product shows the deal.
    page.goto("/board/")
    page.locator("select[name=product]").select_option(label="Внедрение CRM")
    page.wait_for_url("**product=*")
    assert page.locator(".board").get_by_text("Ромашка: внедрение").count() == 1
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/settings/products/")
    page.screenshot(path="test-artifacts/products-settings-phone.png", full_page=True)
    assert Deal.objects.filter(product__name="Внедрение CRM").count() == 1
