"""One preview type for every bulk send the staff confirm: consent requests to chosen clients, a campaign."""

from collections import Counter
from dataclasses import dataclass, field

from credits.models import CreditAccount


@dataclass
class SendPreview:
    """What a bulk send would do before the staff confirm it: who gets it, who is skipped and why, the cost."""

    channel: str = ""
    eligible: int = 0
    to_send: list = field(default_factory=list)  # the clients themselves, when the staff picked them one by one
    skipped: Counter = field(default_factory=Counter)  # the policy's sentence → how many
    cost: int = 0
    balance: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def skipped_reasons(self) -> list[tuple[str, int]]:
        return self.skipped.most_common()

    @property
    def short_of_credit(self) -> int:
        """How many credits are missing; those messages would be held until a top-up."""
        return max(0, self.cost - self.balance)


def balance_of(salon_id: int) -> int:
    """The salon's credit balance now (0 before its first top-up)."""
    return CreditAccount.objects.filter(salon_id=salon_id).values_list("balance", flat=True).first() or 0
