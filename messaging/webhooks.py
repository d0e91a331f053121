"""Provider webhooks: Twilio delivery reports and inbound SMS (STOP/START/HELP), anymail tracking.

Twilio requests are verified with its RequestValidator against the public URL; a bad or missing
signature is a 403 and changes nothing.
"""

import logging
import re
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import NumberParseException
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from clients.models import Client, SuppressionReason
from clients.services import lift_suppression, suppress
from consents.models import Source
from consents.services import ConsentChange, Evidence, record_consent
from core.vocabulary import Channel, Purpose
from credits.services import refund

from . import transitions
from .models import Message
from .opt_out import record_sms_opt_out
from .services import help_reply

logger = logging.getLogger(__name__)

# Twilio's standard keywords (case-insensitive, the whole body).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

TWILIO_STATUS = {
    "sent": Message.Status.SENT, "delivered": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED, "failed": Message.Status.FAILED,
}


def _twilio_signature_ok(request) -> bool:
    """Check X-Twilio-Signature against the public URL Twilio called and the POSTed fields."""
    url = urljoin(settings.PUBLIC_BASE_URL, request.get_full_path())
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return bool(settings.TWILIO_AUTH_TOKEN) and validator.validate(url, request.POST.dict(), signature)


def twilio_verified(view):
    def wrapped(request, *args, **kwargs):
        if not _twilio_signature_ok(request):
            logger.warning("Twilio webhook with a bad or missing signature refused: %s", request.path)
            return HttpResponseForbidden("Invalid or missing Twilio signature.")
        return view(request, *args, **kwargs)

    return csrf_exempt(require_POST(wrapped))


@twilio_verified
def twilio_status(request, message_id: int):
    """Delivery report for one of our messages (the callback URL names it)."""
    apply_delivery_report(
        message_id, provider_id=request.POST.get("MessageSid", ""), status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


def apply_delivery_report(message_id: int, *, provider_id: str, status: str, error_code: str = "") -> bool:
    """Move a message forward to the reported status; returns whether anything changed."""
    new_status = TWILIO_STATUS.get(status)
    if new_status is None:
        return False  # queued/accepted/sending: nothing new for the staff
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or (message.provider_id and provider_id and message.provider_id != provider_id):
            return False
        if not transitions.allowed(message.status, new_status):
            return False  # reports arrive out of order: never backwards (transitions.PROGRESS)
        transitions.move(message, new_status)
        message.provider_id = message.provider_id or provider_id
        fields = ["provider_id", "updated_at"]
        if new_status == Message.Status.DELIVERED:
            message.delivered_at = timezone.now()
            fields.append("delivered_at")
        if error_code:
            message.error_code = error_code[:32]
            fields.append("error_code")
        if new_status == Message.Status.FAILED:
            refund(message=message, note=f"provider reported failure {error_code}".strip())
            fields.append("charged")
        transitions.save(message, fields)
        if error_code == "21610":
            record_sms_opt_out(client=message.client, note=f"Twilio 21610 on message {message.pk}")
    return True


@twilio_verified
def twilio_inbound(request):
    """An SMS reply: STOP-like keywords opt out of SMS, START lifts it, HELP answers with the salon's name."""
    try:
        phone = PhoneNumber.from_string(request.POST.get("From", ""))
    except NumberParseException:
        return HttpResponse(str(MessagingResponse()), content_type="application/xml")  # not a phone: nothing to do
    body = re.sub(r"[^A-Z]", "", request.POST.get("Body", "").upper())
    opt_out_type = request.POST.get("OptOutType", "").upper()
    clients = list(Client.objects.filter(phone=phone.as_e164, erased_at__isnull=True).select_related("salon"))
    reply = MessagingResponse()
    note = f"inbound SMS {request.POST.get('MessageSid', '')}: {request.POST.get('Body', '')[:80]}"
    if opt_out_type == "STOP" or body in STOP_WORDS:
        for client in clients:
            record_sms_opt_out(client=client, note=note)
    elif opt_out_type == "START" or body in START_WORDS:
        # Lifts the suppression only: consents withdrawn stay withdrawn until the client grants again.
        lift_suppression(clients=clients, channel=Channel.SMS, reason=SuppressionReason.OPTED_OUT)
    elif opt_out_type == "HELP" or body in HELP_WORDS:
        reply.message(help_reply(clients))
    return HttpResponse(str(reply), content_type="application/xml")


def on_anymail_tracking(sender, event, esp_name, **kwargs):
    """anymail tracking signal: delivered, hard bounce, complaint, unsubscribe."""
    message = (Message.objects.filter(provider_id=event.message_id, channel=Channel.EMAIL)
               .select_related("client").first())
    if message is None:
        logger.info("anymail %s event for unknown message id %s", event.event_type, event.message_id)
        return
    client = message.client
    evidence = Evidence(note=f"{esp_name} {event.event_type} event {event.event_id or ''}".strip()[:255])
    email_purposes = [ConsentChange(purpose, False, Channel.EMAIL) for purpose in (Purpose.SERVICE, Purpose.MARKETING)]
    with transaction.atomic():
        if event.event_type == "delivered":
            apply_delivery_report(message.pk, provider_id=message.provider_id, status="delivered")
        elif event.event_type in ("bounced", "complained"):
            reason = SuppressionReason.HARD_BOUNCE if event.event_type == "bounced" else SuppressionReason.COMPLAINT
            suppress(clients=[client], channel=Channel.EMAIL, reason=reason)
            if event.event_type == "bounced":
                apply_delivery_report(message.pk, provider_id=message.provider_id, status="undelivered")
            record_consent(client=client, changes=email_purposes, source=Source.BOUNCE, evidence=evidence,
                           skip_unchanged=True)
        elif event.event_type == "unsubscribed":
            record_consent(client=client, changes=[ConsentChange(Purpose.MARKETING, False, Channel.EMAIL)],
                           source=Source.EMAIL_UNSUBSCRIBE, evidence=evidence, skip_unchanged=True)
