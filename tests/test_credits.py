"""Credits: top-ups write the ledger, and the balance always equals the ledger's sum."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Sum

from credits.models import CreditEntry
from credits.services import account_for
from outreach.credits import top_up

pytestmark = pytest.mark.django_db


def ledger_sum(salon):
    return CreditEntry.objects.filter(salon=salon).aggregate(total=Sum("amount"))["total"] or 0


def test_top_up_adds_to_balance_and_ledger(salon, owner):
    top_up(salon=salon, amount=100, note="invoice 12", actor=owner)
    top_up(salon=salon, amount=50)
    assert account_for(salon).balance == 150 == ledger_sum(salon)
    assert list(CreditEntry.objects.filter(salon=salon).values_list("kind", flat=True)) == ["top_up"] * 2


@pytest.mark.parametrize("amount", [0, -5])
def test_top_up_must_be_positive(salon, amount):
    with pytest.raises(ValidationError, match="positive whole number"):
        top_up(salon=salon, amount=amount)
    assert account_for(salon).balance == 0
    assert ledger_sum(salon) == 0


def test_grant_credits_command_by_slug_and_id(salon):
    out = StringIO()
    call_command("grant_credits", "aurora", "200", "--note", "welcome", stdout=out)
    call_command("grant_credits", str(salon.pk), "25", stdout=out)
    assert "balance 225" in out.getvalue()
    assert CreditEntry.objects.filter(salon=salon, note="welcome").exists()
    assert account_for(salon).balance == ledger_sum(salon) == 225


def test_grant_credits_reports_bad_input(salon):
    with pytest.raises(CommandError, match="No salon 'nowhere'"):
        call_command("grant_credits", "nowhere", "10")
    with pytest.raises(CommandError, match="positive whole number"):
        call_command("grant_credits", "aurora", "-3")
    assert ledger_sum(salon) == 0


def test_balance_can_never_be_negative_in_the_database(salon):
    from django.db import IntegrityError, transaction

    account = account_for(salon)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(account).objects.filter(pk=account.pk).update(balance=-1)
