"""Browser tests: Playwright for Python driving Debian's Chromium against a live server."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there are still synchronous and single-threaded.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "voronka-test-pass"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `apt-get install chromium` (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def session_cookie(user) -> dict:
    """The session cookie of ``user`` signed in (Django's own force_login, as the views' tests)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return {"name": name, "value": client.cookies[name].value}


@pytest.fixture
def login(browser, live_server, request):
    """``login(user)`` opens a new browser context signed in as ``user`` and returns its page."""
    contexts = []

    def _login(user, *, password: str = PASSWORD, viewport=(1400, 900), through_form=False):
        """Signed in through the form when the test is about signing in; otherwise with a
        session made directly (the form's page, post and redirect cost every test time)."""
        ctx = browser.new_context(
            base_url=live_server.url,
            locale="ru-RU",
            viewport={"width": viewport[0], "height": viewport[1]},
        )
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        page = ctx.new_page()
        if through_form:
            page.goto("/accounts/login/")
            page.fill("#id_username", user.username)
            page.fill("#id_password", password)
            page.click("button[type=submit]")
        else:
            ctx.add_cookies([{"url": live_server.url, **session_cookie(user)}])
            page.goto("/")
        page.wait_for_load_state("networkidle")
        assert "/accounts/login/" not in page.url, f"sign-in as {user.username} failed"
        return page

    yield _login
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, ctx in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for j, page in enumerate(ctx.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{i}-{j}.png"))
        ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
