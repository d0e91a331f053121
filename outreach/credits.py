"""Topping up a salon's credits: the ledger entry, then the messages held for want of credit go out."""

from django.db import transaction

from credits.models import CreditEntry
from credits.services import add_credits
from messaging.services import release_held
from salons.models import Salon


@transaction.atomic
def top_up(*, salon: Salon, amount: int, note: str = "", actor=None) -> CreditEntry:
    """Add credits to a salon and release its held messages (useless ones expire), in one transaction."""
    entry = add_credits(salon=salon, amount=amount, note=note, actor=actor)
    release_held(salon=salon)
    return entry
