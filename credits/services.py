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
def add_credits(*, salon: Salon, amount: int, note: str = "", actor=None) -> CreditEntry:
    """Add credits to a salon: one atomic UPDATE and a ledger entry (outreach.credits.top_up also releases)."""
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_("A top-up must be a positive whole number of credits."))
    account_for(salon)
    CreditAccount.objects.filter(salon=salon).update(balance=F("balance") + amount)
    entry = CreditEntry.objects.create(
        salon=salon, kind=CreditEntry.Kind.TOP_UP, amount=amount, note=note, actor=actor
    )
    return entry


def charge(*, messages) -> set[int]:
    """Take each message's cost from its salon's balance; returns the ids paid for (now or before).

    Per salon in the batch: lock the credit account, take messages in order while the balance
    covers them, then ONE conditional UPDATE (`balance >= total`) and one ledger entry per
    message, so the balance never goes negative whatever the concurrency. Call inside the
    transaction that holds the messages' locks.
    """
    paid = {m.pk for m in messages if m.cost == 0 or m.charged}
    by_salon: dict[int, list] = {}
    for message in messages:
        if message.pk not in paid:
            by_salon.setdefault(message.salon_id, []).append(message)
    for salon_id, unpaid in sorted(by_salon.items()):  # one lock order for every worker: no deadlocks
        account = CreditAccount.objects.select_for_update().filter(salon_id=salon_id)
        balance = account.values_list("balance", flat=True).first() or 0
        taken = []
        for message in unpaid:
            if message.cost <= balance:
                balance -= message.cost
                taken.append(message)
        if not taken:
            continue
        total = sum(m.cost for m in taken)
        updated = CreditAccount.objects.filter(salon_id=salon_id, balance__gte=total).update(
            balance=F("balance") - total
        )
        if not updated:  # cannot happen while we hold the lock; refuse rather than overspend
            continue
        CreditEntry.objects.bulk_create(
            CreditEntry(salon_id=salon_id, kind=CreditEntry.Kind.CHARGE, amount=-m.cost, message=m) for m in taken
        )
        for message in taken:
            message.charged = message.cost
            paid.add(message.pk)
    return paid


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
