"""An SMS opt-out, from a STOP reply or the provider's refusal: both the worker and the webhooks record it."""

from clients.models import Client, SuppressionReason
from clients.services import suppress
from consents.models import Source
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import Channel, Purpose


def record_sms_opt_out(*, client: Client, note: str) -> None:
    """The client replied STOP: suppress SMS and withdraw SMS consent in the register."""
    suppress(clients=[client], channel=Channel.SMS, reason=SuppressionReason.OPTED_OUT)
    record_consent(
        client=client, source=Source.SMS_KEYWORD, evidence=Evidence(note=note), skip_unchanged=True,
        changes=[ConsentChange(purpose, False, Channel.SMS) for purpose in (Purpose.SERVICE, Purpose.MARKETING)],
    )
