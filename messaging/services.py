"""The producer side of the outbox: render and price a message, write its row, queue it after commit.

`sending` does the rest. The sweeper re-enqueues what a lost task left `pending`, and held
messages go back to the workers after a top-up.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.models import Appointment
from clients.models import Client
from consents.links import new_link
from consents.models import ConsentLink
from consents.policy import decide
from consents.selectors import client_state
from core.links import REDACTED, TokenLink, new_token
from core.vocabulary import APPOINTMENT_KINDS, MARKETING_KINDS

from . import transitions
from .models import Message
from .opt_out import record_sms_opt_out  # noqa: F401  (kept importable from here)
from .queue import dispatch_after_commit
from .segments import count_segments

logger = logging.getLogger(__name__)


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
    link: TokenLink | None = None,
) -> Message:
    """Write the message to the outbox and, after commit, hand it to a worker.

    The dedupe key makes this idempotent: enqueueing the same message twice returns the first row
    (`created_now` tells the caller which case it was). A message with a personal `link` gets its URL
    in the context with the token redacted (core.links); the token is put back only for the provider.
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
        link, _token = new_link(client=client, kind=ConsentLink.Kind.PREFERENCES)
        context["link"] = link.redacted_url("consent-form")
        if channel == Message.Channel.EMAIL:
            headers = {"List-Unsubscribe": f"<{link.redacted_url('unsubscribe')}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    subject, body = render(kind=kind, channel=channel, language=client.language, context=context)
    encoding, segments, cost = price(salon, channel, body)
    message = Message(
        salon=salon, client=client, appointment=appointment, kind=kind, channel=channel,
        language=client.language, reply_channel=reply_channel, subject=subject, body=body, headers=headers,
        encoding=encoding, segments=segments, cost=cost, dedupe_key=dedupe_key, expires_at=expires_at,
        repermission_outreach=repermission_outreach,
        link_model=link._meta.label_lower if link is not None else "", link_id=link.pk if link is not None else None,
    )
    _decide(message, client)
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


def _decide(message: Message, client: Client) -> None:
    """The policy's decision for a new row, on the client's current state: its reason, and its first status
    (pending, or blocked and never sent)."""
    decision = decide(client_state(client), message.kind, message.channel, reply_channel=message.reply_channel,
                      repermission_outreach=message.repermission_outreach)
    message.reason, message.reason_text = decision.reason, str(decision.sentence)[:255]
    transitions.begin(message, Message.Status.PENDING if decision.allowed else Message.Status.BLOCKED)


def resend(*, message: Message, by) -> Message:
    """Queue the same text again, its personal link included (staff can re-send a link, never open one).

    The new row is decided again by the send policy and charged like any message. Refused, with a
    sentence the staff can read, when the link has expired or been revoked, or was made before links'
    tokens were derived (then send a new request instead).
    """
    link = None
    if message.link_id:
        link = apps.get_model(message.link_model).objects.filter(pk=message.link_id).first()
        if link is None or link.lapsed():
            raise ValidationError(_("This message's link has expired or was revoked: send a new one instead."))
    elif REDACTED in message.body:
        raise ValidationError(_("This message's link was made before links could be re-sent: send a new one "
                                "instead."))
    client = Client.objects.select_related("salon").get(pk=message.client_id)
    again = Message(
        salon_id=message.salon_id, client=client, appointment_id=message.appointment_id, kind=message.kind,
        channel=message.channel, language=message.language, reply_channel=message.reply_channel,
        subject=message.subject, body=message.body, headers=message.headers, encoding=message.encoding,
        segments=message.segments, cost=message.cost, expires_at=message.expires_at,
        repermission_outreach=message.repermission_outreach, link_model=message.link_model,
        link_id=message.link_id, dedupe_key=f"resend:{message.pk}:{new_token()}",
    )
    _decide(again, client)
    again.save()
    logger.info("message %s re-sent as %s by user %s", message.pk, again.pk, getattr(by, "pk", None))
    if again.status == Message.Status.PENDING:
        dispatch_after_commit([again.pk])
    return again


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
        unknown = transitions.move_rows(
            Message.objects.filter(sending_at__lt=now - sending_after), Message.Status.SENDING, Message.Status.UNKNOWN,
            updated_at=now,
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
    return transitions.move_rows(Message.objects.filter(pk__in=useless.values("pk")), Message.Status.HELD_NO_CREDIT,
                                 Message.Status.EXPIRED, updated_at=now)


def release_held(*, salon, now: datetime | None = None) -> int:
    """After a top-up: held messages go back to `pending` and to the workers (useless ones expire)."""
    now = now or timezone.now()
    with transaction.atomic():
        expire_held(now=now, salon=salon)
        ids = list(
            Message.objects.filter(salon=salon, status=Message.Status.HELD_NO_CREDIT)
            .order_by("pk").values_list("pk", flat=True)
        )
        transitions.move_rows(Message.objects.filter(pk__in=ids), Message.Status.HELD_NO_CREDIT, Message.Status.PENDING,
                              updated_at=now)
        dispatch_after_commit(ids)
    return len(ids)
