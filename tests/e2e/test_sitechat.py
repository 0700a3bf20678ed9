"""The website chat in the browser: a company's page on another origin embeds the widget with
its one script tag; a visitor writes; the manager on duty sees the conversation appear in the
inbox without reloading and answers; the visitor sees the answer without reloading."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from voronka.accounts.models import User
from voronka.inbox.ingest import on_duty
from voronka.inbox.models import Communication, Conversation
from voronka.inbox.sitechat_views import HELD
from voronka.inbox.tests.sitechat_world import site_chat

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(autouse=True)
def held_polls_answer_before_the_database_goes(transactional_db, live_server, settings):
    """The live server may still hold a visitor's poll when a test ends (the browser is gone, the
    server's thread waits out its hold); it would then read a database the test has given up,
    and the error would surface in whichever test runs next. Wait for every held poll first."""
    yield
    slots = int(getattr(settings, "VORONKA_SITECHAT_HELD_POLLS", 8))
    taken = [HELD.acquire(timeout=60) for _ in range(slots)]
    for got in taken:
        if got:
            HELD.release()


@pytest.fixture
def company_site():
    """The company's own site: a plain page on 127.0.0.1, another origin than the CRM's
    ``localhost``. ``site.script`` is set to the script tag copied from the settings page."""

    class Page(BaseHTTPRequestHandler):
        script = ""

        def do_GET(self):
            body = (
                "<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                "<title>Магазин</title></head><body style='font-family:sans-serif'>"
                "<h1>Магазин мебели</h1><p>Диваны, кресла, столы.</p>"
                f"{Page.script}</body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Page.url = f"http://127.0.0.1:{server.server_port}"
    yield Page
    server.shutdown()
    server.server_close()


def test_a_visitor_and_the_manager_on_duty_chat_across_origins(
    org, login, browser, live_server, company_site, settings
):
    settings.VORONKA_SITECHAT_POLL_SECONDS = 5
    cache.clear()
    channel = site_chat(
        org,
        allowed_origins=[company_site.url],
        colour="#2fb344",
        greeting="Здравствуйте! Подберём мебель под ваш размер.",
    )
    duty = User.objects.get(pk=on_duty(org.workspace.id)[0])
    duty.first_name = "Марина"
    duty.save()

    # The head copies the tag from the channel's settings page.
    ARTIFACTS.mkdir(exist_ok=True)
    httpx.get(live_server.url + "/accounts/login/", timeout=60)  # the first page warms up
    head = login(org.head)
    head.goto(f"/settings/channels/{channel.id}/")
    head.screenshot(path=str(ARTIFACTS / "sitechat-settings.png"), full_page=True)
    tag = head.locator("#embed-code").input_value()
    assert tag == f'<script src="{live_server.url}/widget/{channel.webhook_key}.js" async></script>'
    company_site.script = tag
    head.goto("/settings/channels/")
    assert head.locator(f"[data-channel='{channel.name}'] input").input_value() == tag

    manager = login(duty)
    manager.goto("/inbox/")
    expect(manager.get_by_test_id("conversation-row")).to_have_count(0)
    manager.evaluate("window.sameDocument = true")

    visitor_ctx = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 800})
    visitor_ctx.set_default_timeout(10_000)
    visitor = visitor_ctx.new_page()
    visitor.goto(company_site.url + "/")
    launcher = visitor.locator("#voronka-chat .launcher")
    expect(launcher).to_be_visible()
    launcher.click()
    panel = visitor.locator("#voronka-chat .panel")
    expect(panel).to_contain_text("Подберём мебель под ваш размер.")
    visitor.evaluate("window.sameDocument = true")
    text = '<b>Диван</b> 2 метра <script>alert("x")</script> есть?'
    panel.locator("textarea").fill(text)
    panel.locator("textarea").press("Enter")
    mine = panel.locator(".msg.visitor")
    expect(mine).to_have_text(text)
    expect(mine).not_to_have_class("pending")
    assert panel.locator(".msg b, .msg script").count() == 0

    row = manager.get_by_test_id("conversation-row").filter(has_text="Диван")
    expect(row).to_be_visible(timeout=15_000)
    assert manager.evaluate("window.sameDocument") is True
    row.click()
    expect(manager.get_by_test_id("message-text")).to_have_text(text)
    manager.locator("#reply-text").fill("Есть, 2 и 2,2 метра. Оставите телефон?")
    manager.locator("#reply-box button[type=submit]").click()
    expect(manager.get_by_test_id("message").filter(has_text="Оставите телефон")).to_be_visible()

    answer = panel.locator(".msg.manager").filter(has_text="Оставите телефон?")
    expect(answer).to_be_visible(timeout=15_000)
    expect(answer.locator("b")).to_have_text("Марина")
    assert visitor.evaluate("window.sameDocument") is True

    # The visitor leaves a phone: their new contact keeps it.
    panel.get_by_text("Оставить телефон или email").click()
    panel.locator("input[name=phone]").fill("+7 916 555-44-33")
    panel.get_by_role("button", name="Сохранить").click()
    expect(panel).to_contain_text("Спасибо! Мы свяжемся с вами.")
    conversation = Conversation.objects.select_related("contact").get(channel=channel)
    assert conversation.contact.phone == "+79165554433"
    assert Communication.objects.filter(conversation=conversation).count() == 3

    visitor.screenshot(path=str(ARTIFACTS / "sitechat-desktop.png"))

    # A phone: the panel takes the whole screen, and the conversation is resumed from storage.
    phone_ctx = browser.new_context(
        locale="ru-RU",
        viewport={"width": 390, "height": 844},
        storage_state=visitor_ctx.storage_state(),
    )
    phone = phone_ctx.new_page()
    phone.goto(company_site.url + "/")
    phone.locator("#voronka-chat .launcher").click()
    small = phone.locator("#voronka-chat .panel")
    expect(small.locator(".msg.manager").filter(has_text="Оставите телефон?")).to_be_visible()
    expect(small.locator(".msg")).to_have_count(3)  # the greeting, the question, the answer
    expect(small).not_to_contain_text("Посетитель оставил")  # the CRM's note is not the visitor's
    box = small.bounding_box()
    assert box["width"] == 390 and box["height"] == 844
    phone.screenshot(path=str(ARTIFACTS / "sitechat-phone.png"))
    phone_ctx.close()
    visitor_ctx.close()


def test_out_of_hours_the_widget_takes_a_request_that_becomes_a_lead(
    org, browser, live_server, company_site
):
    cache.clear()
    channel = site_chat(org, allowed_origins=[company_site.url], work_days=[], language="en")
    company_site.script = (
        f'<script src="{live_server.url}/widget/{channel.webhook_key}.js" async></script>'
    )
    ctx = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.goto(company_site.url + "/")
    page.locator("#voronka-chat .launcher").click()
    panel = page.locator("#voronka-chat .panel")
    expect(panel).to_contain_text("We are offline now")
    assert panel.locator("textarea[name=text]").count() == 1
    panel.locator("input[name=name]").fill("Pyotr")
    panel.locator("input[name=email]").fill("not an address")
    panel.locator("textarea[name=text]").fill("Call me about the sofa, please")
    panel.get_by_role("button", name="Send the request").click()
    expect(panel.locator(".error")).to_have_text("This does not look like an email address.")
    panel.locator("input[name=email]").fill("pyotr@example.com")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sitechat-offline-phone.png"))
    panel.get_by_role("button", name="Send the request").click()
    expect(panel).to_contain_text("Your request is received")
    conversation = Conversation.objects.select_related("contact", "deal").get(channel=channel)
    assert conversation.contact.email == "pyotr@example.com"
    assert conversation.deal.contact == conversation.contact
    ctx.close()
