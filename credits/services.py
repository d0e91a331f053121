"""The functions that change a salon's credits: the balance moves only with a ledger entry."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from salons.models import Salon

from .models import CreditAccount, CreditEntry


def account_for(salon: Salon) -> CreditAccount:
    """The salon's credit account, created empty on first use."""
    account, _created = CreditAccount.objects.get_or_create(salon=salon)
    return account


@transaction.atomic
def top_up(*, salon: Salon, amount: int, note: str = "", actor=None) -> CreditEntry:
    """Add credits to a salon (one atomic UPDATE and a ledger entry) and release held messages."""
    from messaging.services import release_held  # messaging depends on credits, not the reverse

    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_("A top-up must be a positive whole number of credits."))
    account_for(salon)
    CreditAccount.objects.filter(salon=salon).update(balance=F("balance") + amount)
    entry = CreditEntry.objects.create(
        salon=salon, kind=CreditEntry.Kind.TOP_UP, amount=amount, note=note, actor=actor
    )
    release_held(salon=salon)
    return entry


def charge(*, message) -> bool:
    """Take a message's cost from its salon's balance; False (and nothing written) when short.

    One conditional UPDATE (`balance >= cost`), so the balance never goes negative whatever the
    concurrency, plus the ledger entry. Call inside the transaction that holds the message's lock.
    """
    cost = message.cost
    if cost == 0 or message.charged:
        return True
    taken = CreditAccount.objects.filter(salon_id=message.salon_id, balance__gte=cost).update(
        balance=F("balance") - cost
    )
    if not taken:
        return False
    CreditEntry.objects.create(salon_id=message.salon_id, kind=CreditEntry.Kind.CHARGE, amount=-cost, message=message)
    message.charged = cost
    return True


def refund(*, message, note: str = "") -> None:
    """Give back what a message was charged (provider refusal, consent withdrawn before sending)."""
    amount = message.charged
    if not amount:
        return
    CreditAccount.objects.filter(salon_id=message.salon_id).update(balance=F("balance") + amount)
    CreditEntry.objects.create(
        salon_id=message.salon_id, kind=CreditEntry.Kind.REFUND, amount=amount, message=message, note=note[:255]
    )
    message.charged = 0
