"""The outbox: enqueue a message (row first, task after commit) and send it exactly once.

A send is three short steps. `claim` locks the row, decides again with the send policy, charges
credits and marks it `sending`, then commits. The provider is called outside any transaction.
`record_*` stores the outcome. A duplicate task, a retry or a crashed worker finds the row no
longer `pending` and does nothing, so nothing is sent or charged twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.models import Appointment
from clients.models import Client, SuppressionReason
from consents.links import form_url, new_preference_token, unsubscribe_url
from consents.models import Source
from consents.policy import decide
from consents.selectors import client_state, client_states
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import MessageKind, Purpose
from credits.services import charge, refund

from .backends import OutgoingSMS, ProviderError, SendResult, get_sms_backend
from .email import OutgoingEmail, send_email
from .models import Message
from .segments import count_segments

MAX_ATTEMPTS = 5
# Held or pending appointment messages that lose their point once the appointment is cancelled.
APPOINTMENT_KINDS = frozenset({MessageKind.APPOINTMENT_CONFIRMATION, MessageKind.APPOINTMENT_REMINDER})
MARKETING_KINDS = frozenset({MessageKind.MARKETING, MessageKind.PERSONALISED_SUGGESTION})


def render(*, kind: str, channel: str, language: str, context: dict) -> tuple[str, str]:
    """The subject (email only) and body of a message, from templates/messaging/, in a language."""
    with translation.override(language):
        body = render_to_string(f"messaging/{kind}.{channel}.txt", context, using="text").strip()
        subject = ""
        if channel == Message.Channel.EMAIL:
            subject = " ".join(render_to_string(f"messaging/{kind}.subject.txt", context, using="text").split())
    return subject, body


def price(salon, channel: str, body: str) -> tuple[str, int, int]:
    """(encoding, segments, cost in credits) of a body on a channel at the salon's prices."""
    if channel == Message.Channel.SMS:
        count = count_segments(body)
        return count.encoding, count.segments, count.segments * salon.sms_price_per_segment
    return "", 0, salon.email_price


def enqueue_message(
    *,
    client: Client,
    kind: str,
    channel: str,
    dedupe_key: str,
    context: dict | None = None,
    appointment: Appointment | None = None,
    reply_channel: str = "",
    expires_at: datetime | None = None,
    repermission_outreach: bool = False,
) -> Message:
    """Write the message to the outbox and, after commit, hand it to a worker.

    The dedupe key makes this idempotent: enqueueing the same message twice returns the first row
    (`created_now` tells the caller which case it was).
    A message the policy refuses right now is stored `blocked` with the reason, and never sent.
    """
    existing = Message.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        existing.created_now = False
        return existing
    client = Client.objects.select_related("salon").get(pk=client.pk)  # decide on fresh flags, not a stale copy
    salon = client.salon
    context = {"salon": salon, "client": client, "appointment": appointment, **(context or {})}
    headers = {}
    if kind in MARKETING_KINDS:
        # Every marketing message carries the client's preference page; email also one-click unsubscribe.
        token = new_preference_token(client)
        context["link"] = form_url(token)
        if channel == Message.Channel.EMAIL:
            headers = {"List-Unsubscribe": f"<{unsubscribe_url(token)}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    subject, body = render(kind=kind, channel=channel, language=client.language, context=context)
    encoding, segments, cost = price(salon, channel, body)
    decision = decide(client_state(client), kind, channel, reply_channel=reply_channel,
                      repermission_outreach=repermission_outreach)
    message = Message(
        salon=salon, client=client, appointment=appointment, kind=kind, channel=channel,
        language=client.language, reply_channel=reply_channel, subject=subject, body=body, headers=headers,
        encoding=encoding, segments=segments, cost=cost, dedupe_key=dedupe_key, expires_at=expires_at,
        repermission_outreach=repermission_outreach,
        status=Message.Status.PENDING if decision.allowed else Message.Status.BLOCKED,
        reason=decision.reason, reason_text=str(decision.sentence)[:255],
    )
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        existing = Message.objects.get(dedupe_key=dedupe_key)  # a concurrent enqueue won the race
        existing.created_now = False
        return existing
    message.created_now = True
    if message.status == Message.Status.PENDING:
        dispatch_after_commit([message.pk])
    return message


def dispatch_after_commit(message_ids: list[int], *, batch_size: int = 1) -> None:
    """Queue send tasks for these messages once the current transaction commits (in batches)."""
    from .tasks import send_batch_task, send_message_task

    for start in range(0, len(message_ids), batch_size):
        ids = message_ids[start:start + batch_size]
        if len(ids) == 1:
            transaction.on_commit(lambda message_id=ids[0]: send_message_task.delay(message_id))
        else:
            transaction.on_commit(lambda ids=ids: send_batch_task.delay(ids))


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


def claim(message_ids: list[int], *, now: datetime | None = None) -> list[Message]:
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
                message.status = Message.Status.EXPIRED
                refund(message=message, note="expired before sending")
                continue
            decision = decide(states[message.client_id], message.kind, message.channel,
                              reply_channel=message.reply_channel,
                              repermission_outreach=message.repermission_outreach)
            message.reason, message.reason_text = decision.reason, str(decision.sentence)[:255]
            if not decision.allowed:
                message.status = Message.Status.BLOCKED
                refund(message=message, note="blocked by consent at send time")
                continue
            allowed.append(message)
        paid = charge(allowed)
        sending = []
        for message in allowed:
            if message.pk not in paid:
                message.status = Message.Status.HELD_NO_CREDIT
                continue
            message.status = Message.Status.SENDING
            message.recipient = message.client.contact_for(message.channel)
            message.sending_at = now
            message.attempts += 1
            sending.append(message)
        for message in messages:
            message.updated_at = now
        requested = [m.client_id for m in sending if m.kind == MessageKind.CONSENT_REQUEST]
        if requested:  # the cooldown counts from the request that actually goes out
            Client.objects.filter(pk__in=requested).update(consent_requested_at=now)
        Message.objects.bulk_update(
            messages, ["status", "reason", "reason_text", "charged", "recipient", "sending_at", "attempts",
                       "updated_at"]
        )
    return sending


def deliver(message: Message, *, sms_backend=None) -> SendResult:
    """Hand a claimed message to its provider (outside any transaction). Raises ProviderError."""
    if message.channel == Message.Channel.SMS:
        callback = urljoin(settings.PUBLIC_BASE_URL, reverse("twilio-status", args=[message.pk]))
        return (sms_backend or get_sms_backend()).send(
            OutgoingSMS(message_id=message.pk, to=message.recipient, body=message.body,
                        sender=message.salon.sms_sender_id, status_callback=callback)
        )
    return send_email(
        OutgoingEmail(message_id=message.pk, to=message.recipient, subject=message.subject, body=message.body,
                      headers=message.headers)
    )


def record_sent(results: list[tuple[Message, SendResult]], *, now: datetime | None = None) -> None:
    """The provider took these messages: store their ids and move them to `sent`, in two queries."""
    if not results:
        return
    now = now or timezone.now()
    for message, result in results:
        message.provider_id, message.error_code, message.error_text = result.provider_id, "", ""
        message.sent_at = now
    Message.objects.bulk_update([m for m, _ in results], ["provider_id", "error_code", "error_text", "sent_at"])
    # Conditional: a delivery report that arrived first must not be moved backwards.
    Message.objects.filter(pk__in=[m.pk for m, _ in results], status=Message.Status.SENDING).update(
        status=Message.Status.SENT, updated_at=now
    )
    for message, _result in results:
        message.status, message.sent_at = Message.Status.SENT, now


def record_failure(message: Message, error: ProviderError, *, now: datetime | None = None) -> int | None:
    """The provider failed: retry transient errors (returns the delay), settle permanent ones."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status != Message.Status.SENDING:
            return None
        locked.error_code, locked.error_text = error.code[:32], error.text[:500]
        if error.ambiguous:
            # It may have gone out: keep the charge, never resend blindly; a person checks the provider.
            locked.status = Message.Status.UNKNOWN
            locked.save(update_fields=["status", "error_code", "error_text", "updated_at"])
            message.refresh_from_db()
            return None
        if not error.permanent and locked.attempts < MAX_ATTEMPTS:
            locked.status = Message.Status.PENDING  # keeps its charge: the retry will not charge again
            locked.save(update_fields=["status", "error_code", "error_text", "updated_at"])
            message.refresh_from_db()
            return min(30 * 2 ** (locked.attempts - 1), 1800)
        locked.status = Message.Status.FAILED
        refund(message=locked, note=f"provider refused: {error.code}")
        locked.save(update_fields=["status", "error_code", "error_text", "charged", "updated_at"])
        if error.opted_out:
            record_sms_opt_out(locked.client, note=f"provider error {error.code} on message {locked.pk}")
    message.refresh_from_db()
    return None


def help_reply(clients: list[Client]) -> str:
    """The answer to an SMS "HELP": which salon writes, how to reach it, and the STOP/START keywords.

    In the language of the client who wrote (the first one, when several salons know the number), else the
    site's; each salon with its phone for clients, else its email, when it set one.
    """
    language = clients[0].language if clients else settings.LANGUAGE_CODE
    salons = {client.salon_id: client.salon for client in clients}.values()
    names = ", ".join(
        f"{salon.name} ({salon.contact_phone.as_international})" if salon.contact_phone
        else f"{salon.name} ({salon.contact_email})" if salon.contact_email else salon.name
        for salon in sorted(salons, key=lambda salon: salon.name)
    ) or "salonconsent"
    with translation.override(language):
        return _("%(salons)s: reply STOP to stop our text messages, START to receive them again. Your choices: "
                 "the link in our messages.") % {"salons": names}


def record_sms_opt_out(client: Client, *, note: str) -> None:
    """The client replied STOP: suppress SMS and withdraw SMS consent in the register."""
    Client.objects.filter(pk=client.pk).update(sms_suppression=SuppressionReason.OPTED_OUT)
    client.sms_suppression = SuppressionReason.OPTED_OUT
    record_consent(
        client=client, source=Source.SMS_KEYWORD, evidence=Evidence(note=note), skip_unchanged=True,
        changes=[ConsentChange(Purpose.SERVICE, False, "sms"), ConsentChange(Purpose.MARKETING, False, "sms")],
    )


def send_batch(message_ids: list[int]) -> list[SendOutcome]:
    """Claim, deliver and record a batch of messages; one provider call per message, never two."""
    messages = claim(message_ids)
    if not messages:
        return []
    sms_backend = get_sms_backend() if any(m.channel == Message.Channel.SMS for m in messages) else None
    sent, outcomes = [], []
    for message in messages:
        try:
            sent.append((message, deliver(message, sms_backend=sms_backend)))
        except ProviderError as error:
            outcomes.append(SendOutcome(message, retry_in=record_failure(message, error)))
    record_sent(sent)
    return outcomes + [SendOutcome(message) for message, _ in sent]


def send_message(message_id: int) -> SendOutcome | None:
    """Send one message (see send_batch); None when there was nothing to send."""
    outcomes = send_batch([message_id])
    return outcomes[0] if outcomes else None


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    unknown: int
    expired: int


def sweep_outbox(*, now: datetime | None = None, pending_after=timedelta(minutes=5),
                 sending_after=timedelta(minutes=15)) -> SweepResult:
    """Re-enqueue stale pending messages, mark stale `sending` ones `unknown`, expire useless held ones.

    A pending row whose task was lost (a Redis restart) is sent again by this; a `sending` row may
    or may not have reached the provider, so it is never resent blindly: a person checks it.
    """
    now = now or timezone.now()
    stale = list(
        Message.objects.filter(status=Message.Status.PENDING, updated_at__lt=now - pending_after)
        .order_by("pk").values_list("pk", flat=True)
    )
    with transaction.atomic():
        unknown = Message.objects.filter(status=Message.Status.SENDING, sending_at__lt=now - sending_after).update(
            status=Message.Status.UNKNOWN, updated_at=now,
            error_text="No answer from the provider was recorded; check the provider's log before resending.",
        )
        expired = expire_held(now=now)
        Message.objects.filter(pk__in=stale).update(updated_at=now)
        dispatch_after_commit(stale)
    return SweepResult(requeued=len(stale), unknown=unknown, expired=expired)


def expire_held(*, now: datetime, salon=None) -> int:
    """Held messages that are no longer useful become `expired`, uncharged, for the staff to see."""
    held = Message.objects.filter(status=Message.Status.HELD_NO_CREDIT)
    if salon is not None:
        held = held.filter(salon=salon)
    useless = held.filter(expires_at__lte=now) | held.filter(
        kind__in=APPOINTMENT_KINDS, appointment__status=Appointment.Status.CANCELLED
    ) | held.filter(kind__in=APPOINTMENT_KINDS, appointment__starts_at__lte=now)
    return Message.objects.filter(pk__in=useless.values("pk")).update(status=Message.Status.EXPIRED, updated_at=now)


def release_held(*, salon, now: datetime | None = None) -> int:
    """After a top-up: held messages go back to `pending` and to the workers (useless ones expire)."""
    now = now or timezone.now()
    with transaction.atomic():
        expire_held(now=now, salon=salon)
        ids = list(
            Message.objects.filter(salon=salon, status=Message.Status.HELD_NO_CREDIT)
            .order_by("pk").values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=ids).update(status=Message.Status.PENDING, updated_at=now)
        dispatch_after_commit(ids)
    return len(ids)
