"""The salon dashboard on the admin index and the credit balance on every admin page."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from consents.models import Source
from credits.models import CreditAccount, CreditEntry
from credits.services import account_for
from desk.context_processors import salon_credits
from desk.dashboard import (
    consent_coverage,
    credit_balances_for,
    credits_used_per_day,
    dashboard_for,
    marketing_opt_in_by_week,
    message_outcomes,
)
from messaging.models import Message
from outreach.credits import top_up
from tests.factories import ClientFactory, CreditEntryFactory, MembershipFactory, MessageFactory, SalonFactory
from tests.register_tools import grant, withdraw

pytestmark = pytest.mark.django_db

# 16:00 in Rome: the salons' local day and the UTC day agree, whatever time the suite runs.
FIXED_NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def give(client, wording, purpose, channel="", **kwargs):
    grant(client=client, purpose=purpose, channel=channel, wording=wording(client.salon, purpose),
          source=Source.FORM_LINK, **kwargs)


def take_back(client, purpose, channel="", **kwargs):
    withdraw(client=client, purpose=purpose, channel=channel, source=Source.FORM_LINK, **kwargs)


def message(client, status, *, at):
    row = MessageFactory(client=client, status=status)
    Message.objects.filter(pk=row.pk).update(created_at=at)
    return row


def ledger(salon, kind, amount, *, at):
    """A ledger line written at `at` (the ledger is append-only: its time cannot be changed afterwards)."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        CreditEntryFactory(salon=salon, kind=kind, amount=amount)


@pytest.fixture
def four_clients(salon, wording):
    """2 with data processing granted, 1 with marketing email granted, 1 who withdrew it, 1 who never answered."""
    granted_all, data_only, withdrew, silent = ClientFactory.create_batch(4, salon=salon)
    give(granted_all, wording, "data_processing")
    give(granted_all, wording, "marketing", "email")
    give(data_only, wording, "data_processing")
    give(withdrew, wording, "marketing", "email")
    take_back(withdrew, "marketing", "email")
    return granted_all, data_only, withdrew, silent


@pytest.fixture
def noise(other_salon, wording):
    """Another salon where everyone granted everything and messages and credits flowed: it must never count."""
    for client in ClientFactory.create_batch(3, salon=other_salon):
        for purpose, channel in [("data_processing", ""), ("service", "sms"), ("service", "email"),
                                 ("marketing", "sms"), ("marketing", "email")]:
            give(client, wording, purpose, channel)
        message(client, Message.Status.DELIVERED, at=FIXED_NOW - timedelta(days=1))
        ledger(other_salon, CreditEntry.Kind.CHARGE, -7, at=FIXED_NOW - timedelta(days=1))


# --- The figures -------------------------------------------------------------------------------------------


def test_consent_coverage_counts_each_clients_current_state_exactly(salon, four_clients, noise, wording):
    ClientFactory(salon=salon, erased_at=timezone.now())  # erased clients are not in the address book

    coverage = consent_coverage(salon, now=timezone.now())

    assert coverage.clients == 4
    assert (coverage.data_processing.count, coverage.data_processing.percent) == (2, 50)
    assert coverage.opt_ins[("marketing", "email")].count == 1
    assert coverage.opt_ins[("marketing", "email")].percent == 25
    assert coverage.opt_ins[("marketing", "sms")].count == 0
    assert coverage.opt_ins[("service", "sms")].count == 0
    assert coverage.opt_ins[("service", "email")].count == 0


def test_a_lapsed_marketing_grant_no_longer_counts_as_opted_in(salon, wording):
    salon.consent_validity_months = 6
    salon.save()
    old, recent = ClientFactory.create_batch(2, salon=salon)
    now = timezone.now()
    give(old, wording, "marketing", "sms", occurred_at=now - timedelta(days=200))
    give(recent, wording, "marketing", "sms", occurred_at=now - timedelta(days=20))
    give(old, wording, "service", "sms", occurred_at=now - timedelta(days=200))  # service consent never lapses

    coverage = consent_coverage(salon, now=now)

    assert coverage.opt_ins[("marketing", "sms")].count == 1
    assert coverage.opt_ins[("service", "sms")].count == 1
    assert marketing_opt_in_by_week(salon, now=now)[-1].shares["sms"].count == 1


def test_empty_salon_has_no_percentages_rather_than_a_division_by_zero(salon):
    coverage = consent_coverage(salon, now=timezone.now())
    assert coverage.clients == 0
    assert coverage.data_processing.percent is None


def test_messages_are_counted_by_outcome_over_the_last_30_days_only(salon, noise):
    client = ClientFactory(salon=salon)
    for status, n in [("sent", 3), ("delivered", 5), ("blocked", 2), ("held_no_credit", 1), ("failed", 1),
                      ("undelivered", 1), ("expired", 1), ("unknown", 1)]:
        for _ in range(n):
            message(client, status, at=FIXED_NOW - timedelta(days=2))
    message(client, "delivered", at=FIXED_NOW - timedelta(days=31))  # too old
    message(client, "delivered", at=FIXED_NOW + timedelta(hours=1))  # after `now`

    outcomes = message_outcomes(salon, now=FIXED_NOW)

    assert {status: n for status, n in outcomes.items() if n} == {
        "sent": 3, "delivered": 5, "blocked": 2, "held_no_credit": 1, "failed": 1,
        "undelivered": 1, "expired": 1, "unknown": 1,
    }


def test_credits_used_per_day_are_charges_minus_refunds_per_local_day(salon, noise):
    top_up(salon=salon, amount=100)  # a top-up is not use
    yesterday_noon = FIXED_NOW - timedelta(days=1)
    ledger(salon, CreditEntry.Kind.CHARGE, -3, at=yesterday_noon)
    ledger(salon, CreditEntry.Kind.CHARGE, -2, at=yesterday_noon)
    ledger(salon, CreditEntry.Kind.REFUND, 1, at=yesterday_noon)
    ledger(salon, CreditEntry.Kind.CHARGE, -5, at=FIXED_NOW - timedelta(hours=1))
    # 23:30 UTC on 1 March is already 2 March in Rome.
    ledger(salon, CreditEntry.Kind.CHARGE, -4, at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    ledger(salon, CreditEntry.Kind.CHARGE, -9, at=FIXED_NOW - timedelta(days=40))  # outside the window

    days = credits_used_per_day(salon, now=FIXED_NOW)

    assert len(days) == 30
    assert days[0][0] == date(2026, 2, 9)
    assert days[-1][0] == date(2026, 3, 10)
    assert {day: used for day, used in days if used} == {
        date(2026, 3, 2): 4, date(2026, 3, 9): 4, date(2026, 3, 10): 5,
    }


def test_marketing_opt_in_per_week_is_rebuilt_from_the_register(salon, wording, noise):
    now = timezone.now()
    emailer, texter, _never = ClientFactory.create_batch(3, salon=salon)
    give(emailer, wording, "marketing", "email", occurred_at=now - timedelta(weeks=3, hours=1))
    give(texter, wording, "marketing", "sms", occurred_at=now - timedelta(days=10))
    take_back(texter, "marketing", "sms", occurred_at=now - timedelta(days=2))

    weeks = marketing_opt_in_by_week(salon, now=now)

    assert [point.at for point in weeks] == [now - timedelta(weeks=n) for n in range(7, -1, -1)]
    assert [p.shares["email"].count for p in weeks] == [0, 0, 0, 0, 1, 1, 1, 1]
    assert [p.shares["sms"].count for p in weeks] == [0, 0, 0, 0, 0, 0, 1, 0]
    assert weeks[-1].shares["email"].percent == 33
    # The last point is today's state: it agrees with the current consents.
    coverage = consent_coverage(salon, now=now)
    assert weeks[-1].shares["email"] == coverage.opt_ins[("marketing", "email")]
    assert weeks[-1].shares["sms"] == coverage.opt_ins[("marketing", "sms")]


def test_a_salons_figures_never_include_another_salons_data(salon, other_salon, noise):
    board = dashboard_for(salon, now=FIXED_NOW)
    assert board.coverage.clients == 0
    assert sum(board.outcomes.values()) == 0
    assert sum(used for _day, used in board.credits_per_day) == 0
    assert all(p.shares["sms"].count == 0 for p in board.marketing_by_week)
    # …while the other salon's own dashboard has them.
    theirs = dashboard_for(other_salon, now=FIXED_NOW)
    assert theirs.coverage.data_processing.count == 3
    assert theirs.outcomes["delivered"] == 3
    assert sum(used for _day, used in theirs.credits_per_day) == 21


# --- The admin index -----------------------------------------------------------------------------------------


def test_admin_index_shows_the_salons_charts_with_the_figures_as_text(client, owner, salon, four_clients, noise):
    top_up(salon=salon, amount=480)
    message(four_clients[0], Message.Status.DELIVERED, at=timezone.now() - timedelta(days=1))
    message(four_clients[1], Message.Status.FAILED, at=timezone.now() - timedelta(days=1))
    client.force_login(owner)
    page = client.get(reverse("admin:index")).text

    assert "Salone Aurora at a glance" in page
    assert page.count("<svg") >= 4
    assert 'role="img"' in page
    assert f'<title id="salon-{salon.pk}-coverage-title">Consent coverage</title>' in page
    assert "2 of 4 clients (50%) have given data-processing consent." in page
    assert "50% · 2 of 4" in page  # data processing
    assert "25% · 1 of 4" in page  # marketing by email
    assert "Today 0% of your clients accept marketing by SMS and 25% by email." in page
    assert "2 messages in the last 30 days; 1 did not arrive." in page
    assert "No credits used in the last 30 days. Balance now: 480." in page
    assert "Other Salon" not in page


def test_a_staff_member_sees_the_dashboard_too(client, member, four_clients):
    client.force_login(member)
    assert "50% · 2 of 4" in client.get(reverse("admin:index")).text


def test_a_superuser_without_a_salon_gets_the_plain_index(client, superuser, four_clients):
    client.force_login(superuser)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "at a glance" not in response.text
    assert "Credits:" not in response.text


def test_coordinates_stay_dot_decimals_in_an_italian_admin(client, owner, four_clients):
    client.force_login(owner)
    page = client.get(reverse("admin:index"), headers={"accept-language": "it"}).text
    assert 'width="440"' in page
    assert not any(f'="{digit},' in page for digit in "0123456789")


@pytest.mark.parametrize("size", [10, 100])
def test_admin_index_queries_stay_bounded_whatever_the_salons_size(
    client, owner, salon, wording, size, django_assert_max_num_queries
):
    now = timezone.now()
    top_up(salon=salon, amount=1000)
    for index, person in enumerate(ClientFactory.create_batch(size, salon=salon)):
        give(person, wording, "data_processing")
        give(person, wording, "marketing", "sms" if index % 2 else "email",
             occurred_at=now - timedelta(days=index % 60))
        message(person, Message.Status.DELIVERED, at=now - timedelta(days=index % 30))
        ledger(salon, CreditEntry.Kind.CHARGE, -1, at=now - timedelta(days=index % 30))
    client.force_login(owner)

    # 14 today: session, user, permissions, memberships, the balance, 6 for the dashboard, the admin log.
    with django_assert_max_num_queries(20):
        page = client.get(reverse("admin:index")).text

    assert f"{size} of {size} clients (100%)" in page


# --- The credit balance on every admin page --------------------------------------------------------------


def test_every_admin_page_shows_the_salons_credit_balance(client, owner, salon):
    top_up(salon=salon, amount=480)
    client.force_login(owner)
    for url in (reverse("admin:index"), reverse("admin:clients_client_changelist"),
                reverse("admin:password_change")):
        page = client.get(url).text
        assert "Credits: 480" in page, url
        assert "Low credit balance" not in page, url


def test_a_low_balance_shows_a_warning_in_words(client, member, salon):
    top_up(salon=salon, amount=12)
    assert CreditAccount.objects.get(salon=salon).low_balance_threshold == 50
    client.force_login(member)
    page = client.get(reverse("admin:clients_client_changelist")).text
    assert "Credits: 12" in page
    assert "Low credit balance:" in page
    assert "12 credits left" in page
    assert "When they run out, SMS are held until a top-up." in page


def test_the_warning_follows_the_salons_own_threshold(client, owner, salon):
    top_up(salon=salon, amount=80)
    CreditAccount.objects.filter(salon=salon).update(low_balance_threshold=100)
    client.force_login(owner)
    assert "Low credit balance:" in client.get(reverse("admin:index")).text
    CreditAccount.objects.filter(salon=salon).update(low_balance_threshold=80)
    assert "Low credit balance:" not in client.get(reverse("admin:index")).text


def test_a_salon_with_no_credits_yet_says_so(client, owner, salon):
    client.force_login(owner)
    page = client.get(reverse("admin:index")).text
    assert "Credits: 0" in page
    assert "No credits left" in page
    assert "SMS are held until a top-up." in page


def test_staff_see_only_their_own_salons_balance(client, outsider, salon, other_salon):
    top_up(salon=salon, amount=480)
    account_for(other_salon)
    client.force_login(outsider)
    page = client.get(reverse("admin:index")).text
    assert "Credits: 480" not in page
    assert "Credits: 0" in page


def test_a_member_of_two_salons_sees_both_balances_in_one_query(owner, salon, django_assert_num_queries):
    second = SalonFactory(name="Zeta Hair")
    MembershipFactory(salon=second, user=owner)
    top_up(salon=salon, amount=480)
    top_up(salon=second, amount=5)
    with django_assert_num_queries(1):
        balances = credit_balances_for(owner)
    assert [(b.salon_name, b.balance, b.is_low) for b in balances] == [
        ("Salone Aurora", 480, False), ("Zeta Hair", 5, True),
    ]


def test_the_balance_is_read_only_on_admin_pages_and_only_once(owner, django_assert_num_queries):
    factory = RequestFactory()
    public = factory.get("/c/some-token/")
    public.user = owner
    assert salon_credits(public) == {}
    admin_page = factory.get(reverse("admin:index"))
    admin_page.user = owner
    context = salon_credits(admin_page)
    with django_assert_num_queries(1):
        assert context["salon_credits"]() == context["salon_credits"]()
