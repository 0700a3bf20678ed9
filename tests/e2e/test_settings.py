"""The head of sales sets up the funnel in the browser: add, drag, rename, and a refused delete."""

from voronka.testing.factories import make_deal


def stage_order(page) -> list[str]:
    return page.locator("#stages tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.stageName)"
    )


def test_the_head_adds_drags_renames_a_stage_and_cannot_delete_one_holding_deals(org, login):
    for _ in range(3):
        make_deal(org.manager1, org.pipeline)  # at the first stage, «Новый лид»
    page = login(org.head)

    page.goto("/settings/pipelines/")
    page.locator(f'tr[data-pipeline-id="{org.pipeline.id}"] a').first.click()
    page.wait_for_url(f"**/settings/pipelines/{org.pipeline.id}/**")

    # Add a stage: without a place it goes after the last open stage.
    form = page.locator("#new-stage")
    form.locator("#id_name").fill("Демонстрация")
    form.locator("#id_normal_days").fill("3")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    order = stage_order(page)
    assert order[-3:] == ["Демонстрация", "Успешно", "Проиграно"]

    # Drag it by its handle above «Квалификация».
    handle = page.locator('tr[data-stage-name="Демонстрация"] .stage-handle')
    target = page.locator('tr[data-stage-name="Квалификация"]')
    with page.expect_response(lambda r: "/stages/reorder/" in r.url) as answer:
        handle.hover()
        page.mouse.down()
        # As a person does: move over the target's top edge and let go once the row shows there
        # (the rows slide while they animate, so the edge is looked up again until it does).
        for _ in range(10):
            box = target.bounding_box()
            page.mouse.move(box["x"] + 30, box["y"] + 2, steps=6)
            if stage_order(page)[1] == "Демонстрация":
                break
            page.wait_for_timeout(200)
        page.mouse.up()
    assert answer.value.status == 200
    page.wait_for_load_state("networkidle")
    expected = ["Новый лид", "Демонстрация", "Квалификация"]
    assert stage_order(page)[:3] == expected
    page.reload()
    assert stage_order(page)[:3] == expected  # saved, not only moved on screen

    # The arrows do the same from the keyboard.
    down = page.locator('tr[data-stage-name="Демонстрация"] button[value$=":down"]')
    down.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#stages tbody tr')]"
        ".map(r => r.dataset.stageName)[2] === 'Демонстрация'"
    )
    # The keyboard stays on the stage it moves.
    page.wait_for_function("() => (document.activeElement.value || '').endsWith(':down')")

    # Rename it on its own page.
    page.locator('tr[data-stage-name="Демонстрация"] td a').first.click()
    page.locator("#stage-form #id_name").fill("Демонстрация продукта")
    page.locator("#stage-form button.btn-primary").click()
    page.wait_for_url(f"**/settings/pipelines/{org.pipeline.id}/**")
    assert "Демонстрация продукта" in stage_order(page)
    history = page.locator("#history")
    assert "Демонстрация продукта" in history.inner_text()

    # Deleting the stage that holds three deals is refused, and the count is shown.
    page.locator('tr[data-stage-name="Новый лид"] a.btn-ghost-danger').click()
    refusal = page.locator("#delete-refusal")
    refusal.wait_for()
    assert "3" in refusal.inner_text()
    assert page.locator("#confirm-delete").is_disabled()
    assert org.pipeline.stages.filter(name="Новый лид").exists()
