import threading

from .base import OutgoingSMS, SendResult, SMSBackend

# Every SMS "sent" in this process, for tests to read (like django.core.mail.outbox).
outbox: list[OutgoingSMS] = []
_lock = threading.Lock()


class LocmemSMSBackend(SMSBackend):
    """The tests' SMS provider: keeps each SMS in `outbox`."""

    def send(self, sms: OutgoingSMS) -> SendResult:
        with _lock:
            outbox.append(sms)
            return SendResult(provider_id=f"locmem-{sms.message_id}-{len(outbox)}")
