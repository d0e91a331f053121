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
    """Add credits to a salon: one atomic UPDATE of the balance and one ledger entry."""
    if not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_("A top-up must be a positive whole number of credits."))
    account_for(salon)
    CreditAccount.objects.filter(salon=salon).update(balance=F("balance") + amount)
    return CreditEntry.objects.create(salon=salon, kind=CreditEntry.Kind.TOP_UP, amount=amount, note=note, actor=actor)
