import pytest
from django.db import connection

from consents.selectors import current_wording
from messaging.backends import locmem
from salons.models import Membership

from .factories import ClientFactory, MembershipFactory, SalonFactory, UserFactory

pytest_plugins = ["tests.fakes", "tests.browser"]


def pytest_configure(config):
    """The suite's own flush after transactional tests runs with the guards lifted for that one statement.

    The register, its state, the wordings and the ledger refuse TRUNCATE (core.db.NoTruncate). Django empties
    the database after each `transaction=True` test with one TRUNCATE of every table; the tests connect as
    the cluster's superuser, who may set session_replication_role = replica for that transaction only.
    Nothing outside the tests does this (README: the application role cannot).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def flush_with_guards_lifted(self, sql_list):
        return original(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    DatabaseOperations.execute_sql_flush = flush_with_guards_lifted


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (the suite runs there too)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Every test sends SMS to an empty locmem outbox, `messaging.backends.locmem.outbox` (like mail.outbox).

    A test that needs another provider sets `settings.SMS_BACKEND` itself (as `fake_twilio` does).
    """
    settings.SMS_BACKEND = "locmem"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def salon(db):
    return SalonFactory(name="Salone Aurora", slug="aurora")


@pytest.fixture
def other_salon(db):
    return SalonFactory(name="Other Salon", slug="other")


@pytest.fixture
def owner(salon):
    return MembershipFactory(salon=salon, role=Membership.Role.OWNER, user__username="owner").user


@pytest.fixture
def member(salon):
    """A staff member (not owner) of `salon`."""
    return MembershipFactory(salon=salon, role=Membership.Role.STAFF, user__username="member").user


@pytest.fixture
def outsider(other_salon):
    """A staff member of another salon."""
    return MembershipFactory(salon=other_salon, role=Membership.Role.OWNER, user__username="outsider").user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def client_(salon):
    return ClientFactory(salon=salon)


@pytest.fixture
def wording():
    """The current wording for a purpose in a salon and language."""

    def get(salon, purpose, language="en"):
        return current_wording(salon=salon, purpose=purpose, language=language)

    return get


@pytest.fixture
def vendor():
    return connection.vendor
