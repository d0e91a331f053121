"""What every SMS backend takes and returns, and how it reports a failure."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingSMS:
    """One SMS to hand to a provider."""

    message_id: int  # our outbox row, for logs and the status callback
    to: str  # E.164
    body: str
    sender: str = ""  # alphanumeric sender ID or number; empty: the provider's default/messaging service
    status_callback: str = ""  # absolute URL for delivery reports, if any


@dataclass(frozen=True)
class SendResult:
    provider_id: str  # e.g. Twilio's SM… sid, to match delivery reports later


class ProviderError(Exception):
    """A provider refused or failed a send.

    `permanent` errors are never retried (invalid number, opted out); the others are
    (connection failures, 5xx, 429). `opted_out` marks a recipient who replied STOP (Twilio
    21610). `ambiguous` means the provider may have taken the message anyway (the answer timed
    out): such a send is not retried blindly but left `unknown` for a person to check.
    """

    def __init__(self, text: str, *, code: str = "", permanent: bool, opted_out: bool = False,
                 ambiguous: bool = False):
        super().__init__(text)
        self.text = text
        self.code = code
        self.permanent = permanent
        self.opted_out = opted_out
        self.ambiguous = ambiguous


class SMSBackend:
    """Send one SMS or raise ProviderError."""

    def send(self, sms: OutgoingSMS) -> SendResult:
        raise NotImplementedError
