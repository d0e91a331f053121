"""SMS providers behind one tiny interface, chosen by settings.SMS_BACKEND and imported lazily."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import OutgoingSMS, ProviderError, SendResult, SMSBackend

BACKENDS = {
    "console": "messaging.backends.console.ConsoleSMSBackend",
    "locmem": "messaging.backends.locmem.LocmemSMSBackend",
    "twilio": "messaging.backends.twilio.TwilioSMSBackend",
}


def get_sms_backend(name: str | None = None) -> SMSBackend:
    """The configured SMS backend: a short name from BACKENDS or a dotted path."""
    name = name or settings.SMS_BACKEND
    return import_string(BACKENDS.get(name, name))()


__all__ = ["BACKENDS", "OutgoingSMS", "ProviderError", "SMSBackend", "SendResult", "get_sms_backend"]
