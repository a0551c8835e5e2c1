"""Browser tests: Debian's Chromium driven by Playwright against the portal served by
pytest-django's live server on the test database (PostgreSQL), as a person would click.

Each page a journey visits is checked with axe-core (WCAG 2.2 AA: no serious or critical
violation), and the journeys save screenshots under var/screenshots/ (`make screenshots`
copies the README's into docs/screenshots/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module", autouse=True)
def sync_calls_beside_playwright():
    """Playwright's sync API keeps its event loop running in the test's thread, so Django
    takes the test's own (synchronous) database calls, and the flush after each test, for
    calls from async code. Only while the browser module runs: never in other tests or in
    the processes they start (`check --deploy` refuses the variable)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")  # closed with the module: its event loop must not outlive it
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is not installed: `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    """The live server serves static files from their sources (finders), so pages must ask
    for them by their plain names, not the collected, hashed ones."""
    from django.contrib.staticfiles import storage
    from django.utils.functional import empty

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    storage.staticfiles_storage._wrapped = empty
    yield
    storage.staticfiles_storage._wrapped = empty


@pytest.fixture
def person(browser, live_server):
    """A browser window signed in as the given user, at a desk's width unless asked (the
    journeys also run at a tablet's 820 and a phone's 390). Through the sign-in page when
    asked (`through_the_page`: that page is then checked too); otherwise with a session
    made for them, which saves each journey a sign-in per person."""
    from django.conf import settings
    from django.test import Client

    contexts = []

    def sign_in(user, password="correct-horse-battery-staple", width=1280, through_the_page=False):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": width, "height": 900},
            locale="en-GB",
            timezone_id="Europe/London",
        )
        contexts.append(context)
        page = context.new_page()
        if through_the_page:
            page.goto("/accounts/login/")
            assert_accessible(page)
            page.get_by_label("Username").fill(user.username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
        else:
            client = Client()
            client.force_login(user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page.goto("/")
        page.wait_for_load_state()
        return page

    yield sign_in
    for context in contexts:
        context.close()


def assert_accessible(page) -> None:
    """axe-core's WCAG 2.0/2.1/2.2 A and AA rules: no serious or critical violation."""
    page.evaluate(AXE.read_text())
    results = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    serious = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]
    assert not serious, f"{page.url}: " + "; ".join(serious)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def reference_data(db):
    """What the data migrations made (triage categories, schedules): a transactional test
    before this one may have emptied the tables."""
    from importlib import import_module

    from django.apps import apps

    import_module("recovery_at_home.migrations.0002_default_triage_categories").create_categories(apps, None)
    import_module("partners.migrations.0002_seed_terms").seed(apps, None)


@pytest.fixture
def quick_queue(settings):
    """The queue asks for new rows every second instead of every 15."""
    settings.RAH_QUEUE_POLL_SECONDS = 1
