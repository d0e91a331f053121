import sys
import threading

from .base import OutgoingSMS, SendResult, SMSBackend

_lock = threading.Lock()


class ConsoleSMSBackend(SMSBackend):
    """The demo's SMS provider: prints each SMS, link included, to standard output."""

    stream = sys.stdout

    def send(self, sms: OutgoingSMS) -> SendResult:
        with _lock:
            header = f"----- SMS #{sms.message_id} from {sms.sender or '(default sender)'} to {sms.to} "
            self.stream.write(f"{header:-<72}\n{sms.body}\n{'-' * 72}\n")
            self.stream.flush()
        return SendResult(provider_id=f"console-{sms.message_id}")
