"""What the client sees: the privacy authorisation request, the form's submission, the receipt, unsubscribe.

These join the register to the outbox, so they live apart from the register's own services.
"""


from django.db import transaction
from django.utils import timezone

from clients.models import Client
from consents.forms import BOXES
from consents.links import form_url, new_link
from consents.models import ConsentEvent, ConsentLink, Source
from consents.policy import decide
from consents.receipts import receipt_lines
from consents.selectors import client_state, client_states
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import Channel, MessageKind, Purpose
from messaging.models import Message
from messaging.services import enqueue_message, price, render
from outreach.preview import SendPreview, balance_of


def send_consent_request(*, client: Client, channel: str, by=None, repermission_outreach: bool = False,
                         dedupe_key: str = "") -> Message:
    """Create a request link for the client and queue the request on a channel.

    The outbox applies the policy (contact, suppression, restriction, cooldown, relationship) and
    the credits; a refused request is stored `blocked` with the reason, and its link is revoked.
    `repermission_outreach` is for a salon's explicit re-permission campaign (its legal basis is
    recorded on the campaign): the request then needs no appointment context.
    """
    link, _token = new_link(client=client, kind=ConsentLink.Kind.REQUEST, channel=channel, by=by)
    message = enqueue_message(
        client=client, kind=MessageKind.CONSENT_REQUEST, channel=channel, link=link,
        context={"link": link.redacted_url("consent-form")},
        dedupe_key=dedupe_key or f"consent_request:{client.pk}:{channel}:{link.pk}",
        repermission_outreach=repermission_outreach,
    )
    if message.status == Message.Status.BLOCKED:
        ConsentLink.objects.filter(pk=link.pk).update(revoked_at=message.created_at)
    return message


def send_receipt(*, client: Client, events, reply_channel: str = "") -> Message:
    """Queue a receipt of the choices just recorded: by email where allowed, else on the channel used."""
    state = client_state(client)
    email_ok = decide(state, MessageKind.CONSENT_RECEIPT, Channel.EMAIL, reply_channel=reply_channel).allowed
    channel = Channel.EMAIL if email_ok else (reply_channel or Channel.SMS)
    link, _token = new_link(client=client, kind=ConsentLink.Kind.PREFERENCES)
    # The receipt lists every current choice (not only what just changed), each with its date.
    order = {key: index for index, key in enumerate(BOXES)}
    current = sorted(
        ConsentEvent.objects.filter(pk__in=client.consent_states.values("event")).select_related("wording", "salon"),
        key=lambda event: order.get((event.purpose, event.channel), len(order)),
    )  # in the form's order
    return enqueue_message(
        client=client, kind=MessageKind.CONSENT_RECEIPT, channel=channel, reply_channel=reply_channel, link=link,
        context={"link": link.redacted_url("consent-form"),
                 "choices": receipt_lines(events=current, language=client.language)},
        dedupe_key=f"consent_receipt:{client.pk}:{events[-1].pk}",
    )


def submit_choices(*, link: ConsentLink, changes: list[ConsentChange], evidence: Evidence) -> list:
    """The client saved the form: write what changed (one transaction) and queue a receipt.

    Saving the same choices again writes nothing and sends no receipt.
    """
    client = link.client
    with transaction.atomic():
        events = record_consent(client=client, changes=changes, source=Source.FORM_LINK, evidence=evidence,
                                skip_unchanged=True)
        ConsentLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
        if events:
            send_receipt(client=client, events=events, reply_channel=link.channel)
    return events


def unsubscribe_marketing_email(*, link: ConsentLink, evidence: Evidence) -> list:
    """One-click unsubscribe (RFC 8058): withdraw marketing by email at once."""
    return record_consent(
        client=link.client, source=Source.EMAIL_UNSUBSCRIBE, evidence=evidence, skip_unchanged=True,
        changes=[ConsentChange(Purpose.MARKETING, False, Channel.EMAIL)],
    )


def preview_consent_requests(clients: list[Client], channel: str, *, now=None) -> SendPreview:
    """Decide, for each client, whether a request would go on `channel`, and what it would cost.

    The cost is priced from the real message text in each client's language (a link of the real
    length), so the figure matches what the outbox will charge. Assumes one salon's clients.
    """
    preview = SendPreview(channel=channel)
    if not clients:
        return preview
    states = client_states(clients, now=now)
    prices: dict[str, int] = {}
    sample_link = form_url("x" * 22)
    for client in clients:
        decision = decide(states[client.pk], MessageKind.CONSENT_REQUEST, channel)
        if not decision.allowed:
            preview.skipped[str(decision.sentence)] += 1
            continue
        if client.language not in prices:
            _subject, body = render(kind=MessageKind.CONSENT_REQUEST, channel=channel, language=client.language,
                                    context={"salon": client.salon, "client": client, "link": sample_link})
            prices[client.language] = price(client.salon, channel, body)[2]
        preview.to_send.append(client)
        preview.eligible += 1
        preview.cost += prices[client.language]
    preview.balance = balance_of(clients[0].salon_id)
    return preview


def start_cooldown(sender, *, messages, now, **kwargs) -> None:
    """The consent-request cooldown counts from the request that actually goes out (messaging.signals)."""
    requested = [message.client_id for message in messages if message.kind == MessageKind.CONSENT_REQUEST]
    if requested:
        Client.objects.filter(pk__in=requested).update(consent_requested_at=now)
