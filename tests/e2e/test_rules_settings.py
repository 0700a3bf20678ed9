"""The head of sales sets the rules of the funnel in the browser: what «Счёт выставлен» requires,
a custom field, a loss reason, and the funnel's self-check warning of a parking stage."""

from voronka.core.models import CustomField
from voronka.sales.models import LossReason


def test_the_head_sets_requirements_a_custom_field_a_loss_reason_and_sees_a_parking_warning(
    org, login
):
    page = login(org.head)
    pipeline_url = f"/settings/pipelines/{org.pipeline.id}/"
    invoice = org.stage("Счёт выставлен")

    # «Счёт выставлен» requires the invoice number and amount.
    page.goto(pipeline_url)
    page.locator(f'tr[data-stage-id="{invoice.id}"] td a').first.click()
    page.wait_for_url(f"**/settings/stages/{invoice.id}/")
    form = page.locator("#requirements")
    form.locator('input[value="invoice_no"]').check()
    form.locator('input[value="invoice_amount"]').check()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('#requirements input[value="invoice_no"]').is_checked()
    invoice.refresh_from_db()
    assert invoice.required_fields == ["invoice_no", "invoice_amount"]
    page.goto(pipeline_url)
    badges = page.locator(f'tr[data-stage-id="{invoice.id}"] [data-requirement]')
    assert badges.all_inner_texts() == ["Номер счёта", "Сумма счёта"]

    # A custom field of deals, of the type «choice»: the key follows the label.
    page.locator(".settings-tabs a[href='/settings/fields/']").click()
    page.wait_for_url("**/settings/fields/")
    new = page.locator("#new-field")
    assert not new.locator("[name=choices]").is_visible()  # only choice types have choices
    new.locator("[name=label]").fill("Тип оплаты")
    assert new.locator("[name=key]").input_value() == "tip_oplaty"
    new.locator("[name=type]").select_option("choice")
    new.locator("[name=choices]").fill("Безнал\nНаличные")
    new.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    row = page.locator('#fields tr[data-field-key="tip_oplaty"]')
    assert row.is_visible()
    assert "Безнал" in row.inner_text()
    field = CustomField.objects.get(workspace=org.workspace, key="tip_oplaty")
    assert (field.entity, field.type, field.choices) == ("deal", "choice", ["Безнал", "Наличные"])

    # A loss reason.
    page.locator(".settings-tabs a[href='/settings/loss-reasons/']").click()
    page.wait_for_url("**/settings/loss-reasons/")
    page.locator("#new-reason [name=name]").fill("Дорого")
    page.locator("#new-reason button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator('#reasons [data-reason="Дорого"]').is_visible()
    assert LossReason.objects.filter(workspace=org.workspace, name="Дорого").exists()

    # With the reasons in place the funnel is sound; a stage «Отложено» is a parking place.
    page.goto(pipeline_url)
    assert page.locator("#funnel-warnings").count() == 0
    stage_form = page.locator("#new-stage")
    stage_form.locator("#id_name").fill("Отложено")
    stage_form.locator("#id_normal_days").fill("30")
    stage_form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    parked = org.stage("Отложено")
    warning = page.locator('#funnel-warnings [data-warning="parking_stage"]')
    assert warning.is_visible()
    assert "«Отложено»" in warning.inner_text()
    link = warning.locator(f'a[href="/settings/stages/{parked.id}/"]')
    link.click()
    page.wait_for_url(f"**/settings/stages/{parked.id}/")
