"""Shared browser fixtures: one headless Debian Chromium per module, driven by Playwright (sync API)."""

import contextlib
import os
from pathlib import Path

import pytest
from django.db import connection, connections
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync",
]


@contextlib.contextmanager
def append_only_tables_flushable_on_sqlite(django_db_blocker):
    """Lift the DELETE guards (register, its state, credit ledger) on SQLite, then put them back.

    After each transactional test the database is flushed: PostgreSQL does it with TRUNCATE (its guards
    lifted by conftest's flush), SQLite with DELETE, which these triggers refuse.
    """
    triggers = []
    if connection.vendor == "sqlite":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND sql LIKE '%BEFORE DELETE%' AND sql LIKE '%refused%'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        if triggers:
            with django_db_blocker.unblock(), connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)


@pytest.fixture(scope="module")
def browser(django_db_setup, django_db_blocker):
    """One headless Chromium for the module (each test gets its own context)."""
    # Playwright's sync API runs an event loop in this thread, so Django takes the tests' own ORM
    # calls for async code: allowed for this module only, and restored afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    own_connections = {alias: connections[alias] for alias in connections}
    try:
        with append_only_tables_flushable_on_sqlite(django_db_blocker), sync_playwright() as playwright:
            # With an event loop running in the thread, Django looks connections up per async context
            # and would open new ones, without the test database's serialized contents (so no
            # serialized rollback) and never closed. Keep using this thread's own.
            for alias, own in own_connections.items():
                connections[alias] = own
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser, live_server, settings):
    """Open a URL in a fresh phone-sized context; returns the page (closed after the test).

    PUBLIC_BASE_URL points at the live server, so links in messages (consent form, manage link) open there.
    """
    settings.PUBLIC_BASE_URL = live_server.url
    contexts = []

    def open_(url: str, *, locale: str = "en-GB", viewport: dict = PHONE, expected_status: int = 200):
        context = browser.new_context(viewport=viewport, locale=locale)
        context.set_default_timeout(10_000)  # a local page answers in milliseconds; fail fast, not after 30 s
        contexts.append(context)
        page = context.new_page()
        response = page.goto(url)
        assert response.status == expected_status, (url, response.status)
        return page

    yield open_
    for context in contexts:
        context.close()
