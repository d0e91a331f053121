"""The worker side of the outbox: send a message exactly once.

A send is three short steps. `claim` locks the row, decides again with the send policy, charges
credits and marks it `sending`, then commits. The provider is called outside any transaction.
`record_*` stores the outcome. A duplicate task, a retry or a crashed worker finds the row no
longer `pending` and does nothing, so nothing is sent or charged twice.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from consents.policy import decide
from consents.selectors import client_states
from core.links import reveal
from core.vocabulary import APPOINTMENT_KINDS
from credits.services import charge, refund

from . import transitions
from .backends import OutgoingSMS, ProviderError, SendResult, get_sms_backend
from .email import OutgoingEmail, send_email
from .models import Message
from .opt_out import record_sms_opt_out
from .signals import messages_sending

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SendOutcome:
    message: Message
    retry_in: int | None = None  # seconds before the task should try again, for transient errors


def _expired(message: Message, now: datetime) -> bool:
    if message.expires_at and now >= message.expires_at:
        return True
    appointment = message.appointment
    return (
        appointment is not None
        and message.kind in APPOINTMENT_KINDS
        and (appointment.status == Appointment.Status.CANCELLED or appointment.starts_at <= now)
    )


def claim(*, message_ids: list[int], now: datetime | None = None) -> list[Message]:
    """Lock pending messages, decide each again, charge them and mark them `sending`, in one transaction.

    Returns the messages to hand to the provider now. Rows another worker holds are skipped; rows
    no longer `pending` were settled already. Each message keeps its own decision, charge and
    ledger entry; the queries are per batch, not per message.
    """
    now = now or timezone.now()
    with transaction.atomic():
        messages = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("client__salon", "appointment")
            .filter(pk__in=message_ids, status=Message.Status.PENDING)
            .order_by("pk")
        )
        if not messages:
            return []
        states = client_states([m.client for m in messages], now=now)
        allowed = []
        for message in messages:
            if _expired(message, now):
                transitions.move(message, Message.Status.EXPIRED)
                refund(message=message, note="expired before sending")
                continue
            decision = decide(states[message.client_id], message.kind, message.channel,
                              reply_channel=message.reply_channel,
                              repermission_outreach=message.repermission_outreach)
            message.reason, message.reason_text = decision.reason, str(decision.sentence)[:255]
            if not decision.allowed:
                transitions.move(message, Message.Status.BLOCKED)
                refund(message=message, note="blocked by consent at send time")
                continue
            allowed.append(message)
        paid = charge(messages=allowed)
        sending = []
        for message in allowed:
            if message.pk not in paid:
                transitions.move(message, Message.Status.HELD_NO_CREDIT)
                continue
            transitions.move(message, Message.Status.SENDING)
            message.recipient = message.client.contact_for(message.channel)
            message.sending_at = now
            message.attempts += 1
            sending.append(message)
        for message in messages:
            message.updated_at = now
        _reveal_links(sending)
        if sending:
            messages_sending.send(sender=Message, messages=sending, now=now)
        transitions.save_all(
            messages, ["reason", "reason_text", "charged", "recipient", "sending_at", "attempts", "updated_at",
                       "text_sha256"]
        )
    return sending


def _reveal_links(messages: list[Message]) -> None:
    """Give each message the text its provider gets, its link's token put back (never saved), and keep that
    text's SHA-256; one query per kind of link in the batch."""
    wanted: dict[str, list[int]] = {}
    for message in messages:
        if message.link_id:
            wanted.setdefault(message.link_model, []).append(message.link_id)
    links = {(label, pk): link for label, ids in wanted.items()
             for pk, link in apps.get_model(label).objects.in_bulk(ids).items()}
    for message in messages:
        link = links.get((message.link_model, message.link_id)) if message.link_id else None
        token = link.token() if link is not None else ""
        message.provider_body = reveal(message.body, token) if token else message.body
        message.provider_headers = {name: reveal(value, token) if token else value
                                    for name, value in message.headers.items()}
        message.text_sha256 = hashlib.sha256(message.provider_body.encode()).hexdigest()


def deliver(message: Message, *, sms_backend=None) -> SendResult:
    """Hand a claimed message (its text revealed by `claim`) to its provider, outside any transaction.

    Raises ProviderError.
    """
    if message.channel == Message.Channel.SMS:
        callback = urljoin(settings.PUBLIC_BASE_URL, reverse("twilio-status", args=[message.pk]))
        return (sms_backend or get_sms_backend()).send(
            OutgoingSMS(message_id=message.pk, to=message.recipient, body=message.provider_body,
                        sender=message.salon.sms_sender_id, status_callback=callback)
        )
    return send_email(
        OutgoingEmail(message_id=message.pk, to=message.recipient, subject=message.subject,
                      body=message.provider_body, headers=message.provider_headers)
    )


def record_sent(*, results: list[tuple[Message, SendResult]], now: datetime | None = None) -> None:
    """The provider took these messages: store their ids and move them to `sent`, in two queries."""
    if not results:
        return
    now = now or timezone.now()
    for message, result in results:
        message.provider_id, message.error_code, message.error_text = result.provider_id, "", ""
        message.sent_at = now
    Message.objects.bulk_update([m for m, _ in results], ["provider_id", "error_code", "error_text", "sent_at"])
    # Conditional: a delivery report that arrived first must not be moved backwards.
    transitions.move_rows(Message.objects.filter(pk__in=[m.pk for m, _ in results]), Message.Status.SENDING,
                          Message.Status.SENT, updated_at=now)
    for message, _result in results:
        transitions.move(message, Message.Status.SENT)
        message.sent_at = now


def record_failure(*, message: Message, error: ProviderError, now: datetime | None = None) -> int | None:
    """The provider failed: retry transient errors (returns the delay), settle permanent ones."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != Message.Status.SENDING:
            return None
        locked.error_code, locked.error_text = error.code[:32], error.text[:500]
        if error.ambiguous:
            # It may have gone out: keep the charge, never resend blindly; a person checks the provider.
            transitions.move(locked, Message.Status.UNKNOWN)
            transitions.save(locked, ["error_code", "error_text", "updated_at"])
            message.refresh_from_db()
            return None
        if not error.permanent and locked.attempts < MAX_ATTEMPTS:
            transitions.move(locked, Message.Status.PENDING)  # keeps its charge: the retry will not charge again
            transitions.save(locked, ["error_code", "error_text", "updated_at"])
            message.refresh_from_db()
            return min(30 * 2 ** (locked.attempts - 1), 1800)
        transitions.move(locked, Message.Status.FAILED)
        refund(message=locked, note=f"provider refused: {error.code}")
        transitions.save(locked, ["error_code", "error_text", "charged", "updated_at"])
        if error.opted_out:
            record_sms_opt_out(client=locked.client, note=f"provider error {error.code} on message {locked.pk}")
    message.refresh_from_db()
    return None


def send_batch(*, message_ids: list[int]) -> list[SendOutcome]:
    """Claim, deliver and record a batch of messages; one provider call per message, never two."""
    messages = claim(message_ids=message_ids)
    if not messages:
        return []
    sms_backend = get_sms_backend() if any(m.channel == Message.Channel.SMS for m in messages) else None
    sent, outcomes = [], []
    for message in messages:
        try:
            sent.append((message, deliver(message, sms_backend=sms_backend)))
        except ProviderError as error:
            outcomes.append(SendOutcome(message, retry_in=record_failure(message=message, error=error)))
    record_sent(results=sent)
    return outcomes + [SendOutcome(message) for message, _ in sent]


def send_message(*, message_id: int) -> SendOutcome | None:
    """Send one message (see send_batch); None when there was nothing to send."""
    outcomes = send_batch(message_ids=[message_id])
    return outcomes[0] if outcomes else None
