"""The email transport: one message through Django's email API, whatever EMAIL_BACKEND is."""

import smtplib
from dataclasses import dataclass, field
from email.utils import parseaddr

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .backends.base import ProviderError, SendResult

REFUSED_STATUSES = {"rejected", "invalid"}  # anymail's per-recipient statuses for a refused address


@dataclass(frozen=True)
class OutgoingEmail:
    """One email to hand to the configured email backend."""

    message_id: int  # our outbox row, for logs and the synthetic provider id
    to: str
    subject: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe, List-Unsubscribe-Post
    from_email: str = ""  # empty: settings.DEFAULT_FROM_EMAIL


def send_email(email: OutgoingEmail) -> SendResult:
    """Send one email or raise ProviderError; the provider id matches the ESP's tracking webhooks."""
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers=dict(email.headers),
        connection=get_connection(),
    )
    try:
        sent = message.send()
    except (AnymailRecipientsRefused, AnymailInvalidAddress) as exc:
        code = "invalid" if isinstance(exc, AnymailInvalidAddress) else _refused_code(message, email.to)
        raise ProviderError(_describe(exc), code=code, permanent=True) from exc
    except AnymailAPIError as exc:
        raise _api_error(exc) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        # The only recipient refused: 5xx is final, 4xx (greylisting, mailbox busy) may pass later.
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        raise ProviderError(str(exc), code="rejected", permanent=permanent) from exc
    except OSError as exc:  # smtplib.SMTPException, socket errors and timeouts
        raise ProviderError(f"Email server unreachable or failing: {exc}", code="network", permanent=False) from exc
    if not sent:
        raise ProviderError("The email backend did not send the message.", code="not_sent", permanent=True)

    status = getattr(message, "anymail_status", None)
    if status is None:  # not an anymail backend: no provider id to match later
        return SendResult(provider_id=f"email-{email.message_id}")
    recipient = _recipient_status(status, email.to)
    if recipient is not None and recipient.status in REFUSED_STATUSES:
        raise ProviderError(
            f"{email.to} was {recipient.status} by the provider.", code=recipient.status, permanent=True
        )
    message_id = recipient.message_id if recipient is not None else status.message_id
    return SendResult(provider_id=str(message_id or f"email-{email.message_id}"))


def _api_error(exc: AnymailAPIError) -> ProviderError:
    """An ESP API failure: rate limits, server errors and network trouble are retried, other 4xx are not."""
    text = _describe(exc)
    # anymail re-raises a requests failure as a class deriving from both, e.g. AnymailRequestsAPIError+ReadTimeout.
    if isinstance(exc, AnymailRequestsAPIError) and isinstance(exc, requests.ReadTimeout):
        # The ESP may have accepted the email before the answer was lost: never resend blindly.
        return ProviderError(
            f"The email provider did not answer in time: {text}", code="timeout", permanent=False, ambiguous=True
        )
    if isinstance(exc, AnymailRequestsAPIError) and isinstance(exc, requests.Timeout):
        return ProviderError(f"Could not reach the email provider in time: {text}", code="timeout", permanent=False)
    if isinstance(exc, AnymailRequestsAPIError) and isinstance(exc, requests.ConnectionError):
        return ProviderError(f"Could not reach the email provider: {text}", code="network", permanent=False)
    status = exc.status_code
    if status is not None and 400 <= status < 500 and status != 429:
        return ProviderError(text, code=f"http-{status}", permanent=True)
    return ProviderError(text, code=f"http-{status}" if status else "error", permanent=False)


def _describe(exc: Exception) -> str:
    """One readable line: anymail's summary, the ESP's own message and the network cause, without the JSON dump."""
    parts = [" ".join(str(arg) for arg in exc.args).strip()]
    response = getattr(exc, "response", None)
    if response is not None:
        parts.append(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            parts.append(str(data.get("Message") or data.get("message") or "").strip())
    if exc.__cause__ is not None:
        parts.append(str(exc.__cause__))
    return ": ".join(part.rstrip(":") for part in parts if part) or type(exc).__name__


def _recipient_status(status, to: str):
    """Anymail's status for `to` (keys are addr-specs, case as sent or lower-cased by the ESP)."""
    addr_spec = parseaddr(to)[1] or to
    for address, recipient in status.recipients.items():
        if address.lower() == addr_spec.lower():
            return recipient
    return None


def _refused_code(message: EmailMessage, to: str) -> str:
    status = getattr(message, "anymail_status", None)
    recipient = _recipient_status(status, to) if status is not None else None
    return recipient.status if recipient is not None and recipient.status in REFUSED_STATUSES else "rejected"
