"""Twilio Programmable Messaging through the official `twilio` library."""

from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .base import OutgoingSMS, ProviderError, SendResult, SMSBackend

# Twilio error codes that no retry can fix (https://www.twilio.com/docs/api/errors).
INVALID_TO = 21211
NOT_A_MOBILE = 21614
UNSUBSCRIBED_RECIPIENT = 21610  # the recipient replied STOP
PERMANENT_CODES = {INVALID_TO, NOT_A_MOBILE, UNSUBSCRIBED_RECIPIENT, 21408, 21612}



class RebasedHttpClient(TwilioHttpClient):
    """Sends every request to `base_url` instead of *.twilio.com (tests: a fake server on 127.0.0.1).

    The library's `edge`/`region` only rewrite twilio.com host names, so scheme and host are swapped here.
    """

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        path = self.base.path.rstrip("/") + parts.path
        url = urlunsplit((self.base.scheme, self.base.netloc, path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


class TwilioSMSBackend(SMSBackend):
    """Sends through Twilio's Messages API; the messaging service, if configured, picks the sender."""

    def __init__(self):
        account_sid = getattr(settings, "TWILIO_ACCOUNT_SID", "")
        auth_token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
        if not account_sid or not auth_token:
            raise ImproperlyConfigured("The twilio SMS backend needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        self.messaging_service_sid = getattr(settings, "TWILIO_MESSAGING_SERVICE_SID", "")
        timeout = getattr(settings, "TWILIO_TIMEOUT", 10)
        base_url = getattr(settings, "TWILIO_API_BASE_URL", "")
        http_client = RebasedHttpClient(base_url, timeout=timeout) if base_url else TwilioHttpClient(timeout=timeout)
        # An explicit environment keeps the library from reading TWILIO_* variables behind the settings' back.
        environment = {"TWILIO_ACCOUNT_SID": account_sid, "TWILIO_AUTH_TOKEN": auth_token}
        self.client = Client(account_sid, auth_token, http_client=http_client, environment=environment)

    def send(self, sms: OutgoingSMS) -> SendResult:
        params = {"to": sms.to, "body": sms.body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        elif sms.sender:
            params["from_"] = sms.sender
        if sms.status_callback:
            params["status_callback"] = sms.status_callback
        try:
            message = self.client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise api_error(exc) from exc
        except requests.ReadTimeout as exc:
            # Twilio may have accepted the SMS before the answer was lost: never resend blindly.
            raise ProviderError(
                f"Twilio did not answer in time: {exc}", code="timeout", permanent=False, ambiguous=True
            ) from exc
        except requests.Timeout as exc:  # the connection was never made: safe to retry
            raise ProviderError(f"Could not reach Twilio in time: {exc}", code="timeout", permanent=False) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"Could not reach Twilio: {exc}", code="network", permanent=False) from exc
        except TwilioException as exc:
            raise ProviderError(f"Twilio client error: {exc}", code="error", permanent=False) from exc
        return SendResult(provider_id=message.sid)


def api_error(exc: TwilioRestException | TwilioServiceException) -> ProviderError:
    """Twilio's refusal as a ProviderError: only 429, 5xx and unknown statuses are worth a retry."""
    status = exc.status or 0
    if isinstance(exc, TwilioServiceException):
        text = ": ".join(part for part in (exc.title, exc.detail) if part)
    else:
        # The library prefixes Twilio's own message with what it was doing.
        text = str(exc.msg).removeprefix("Unable to create record: ")
    permanent = exc.code in PERMANENT_CODES or (400 <= status < 500 and status != 429)
    return ProviderError(
        text or f"Twilio answered HTTP {status}",
        code=str(exc.code or f"http-{status}"),
        permanent=permanent,
        opted_out=exc.code == UNSUBSCRIBED_RECIPIENT,
    )
