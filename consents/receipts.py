"""Receipts of a client's consent choices: a Kantara Consent Receipt (v1.1) and a few lines for a person."""

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, override, pgettext

from clients.models import Client
from core.vocabulary import LAPSING_PURPOSES, Channel, Purpose

from .models import Action, ConsentEvent, ConsentWording, Source

KANTARA_VERSION = "KI-CR-v1.1.0"
# Fixed for ever: receipt ids are uuid5 names in it, so changing it would change every receipt id.
RECEIPT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:salonconsent:consent-receipt")

COLLECTION_METHODS = {
    Source.FORM_LINK: gettext_lazy("Web form via link sent by the salon"),
    Source.IN_PERSON: gettext_lazy("In person at the salon, recorded by staff"),
    Source.PAPER: gettext_lazy("Paper form signed at the salon, recorded by staff"),
    Source.BOOKING_WIDGET: gettext_lazy("Online booking"),
    Source.IMPORT: gettext_lazy("Imported from the salon's earlier records"),
    Source.SMS_KEYWORD: gettext_lazy("Keyword sent by SMS"),
    Source.EMAIL_UNSUBSCRIBE: gettext_lazy("Unsubscribe link in an email"),
    Source.BOUNCE: gettext_lazy("Automatically, after an undeliverable message or a spam complaint"),
    Source.STAFF_UPDATE: gettext_lazy("Updated by staff at the client's request"),
}

# Kantara's own vocabulary (not translated): the purpose categories of the v1.1 specification.
PURPOSE_CATEGORIES = {
    Purpose.DATA_PROCESSING: "Core Function",
    Purpose.SERVICE: "Service updates",
    Purpose.MARKETING: "Marketing",
    Purpose.PERSONALISED: "Personalised Advertising",
}
PII_CATEGORIES = {
    Purpose.DATA_PROCESSING: ["Contact details", "Appointment history"],
    Purpose.SERVICE: ["Contact details"],
    Purpose.MARKETING: ["Contact details"],
    Purpose.PERSONALISED: ["Contact details", "Appointment history"],
}
# Grants of these lapse after the salon's consent_validity_months, when it sets one (SPEC §2).


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _receipt_id(client: Client, events: list[ConsentEvent], timestamp: int) -> str:
    if events:
        name = ";".join(f"{event.pk}:{event.entry_hash}" for event in sorted(events, key=lambda e: e.pk))
    else:
        name = f"client:{client.pk}:nothing-changed:{timestamp}"
    return str(uuid.uuid5(RECEIPT_NAMESPACE, name))


def _termination(purpose: str, validity_months: int | None) -> str:
    if validity_months and purpose in LAPSING_PURPOSES:
        return ngettext(
            "Until withdrawn, at most %(months)d month", "Until withdrawn, at most %(months)d months", validity_months
        ) % {"months": validity_months}
    return _("Until withdrawn")


def _collection_method(events: list[ConsentEvent]) -> str:
    sources = dict.fromkeys(event.source for event in events)
    return "; ".join(str(COLLECTION_METHODS.get(source, source)) for source in sources)


def kantara_receipt(*, client: Client, events: list[ConsentEvent], public_base_url: str, now=None) -> dict:
    """A Kantara Consent Receipt (KI-CR-v1.1.0) for register entries of one client, ready for json.dumps.

    Every field named as in the v1.1 specification is Kantara's, the mandatory ones always present even
    when empty (address, email, phone, spiCat); fields starting with "x-" are salonconsent's extensions
    tying each purpose to its register entry: x-channel, x-action, x-occurredAt, x-wordingVersion,
    x-wordingSha256, x-registerEntry (the entry number) and x-entryHash.
    Human-readable texts are in the client's language; the categories keep Kantara's English vocabulary.
    The receipt id is a uuid5 of the entries, so the same recording always gives the same receipt.
    With no entries (a repeated submission changing nothing) the receipt lists no purpose, dated `now`.
    """
    if any(event.client_id != client.pk for event in events):
        raise ValueError("A consent receipt covers the register entries of one client.")
    salon = client.salon
    events = sorted(events, key=lambda event: event.seq)
    moment = max(event.occurred_at for event in events) if events else (now or timezone.now())
    timestamp = int(moment.timestamp())
    base_url = public_base_url.rstrip("/")
    wording_ids = {event.wording_id for event in events if event.wording_id}
    wordings = ConsentWording.objects.in_bulk(wording_ids) if wording_ids else {}

    with override(client.language):
        purposes = []
        for event in events:
            wording = wordings.get(event.wording_id)
            purposes.append({
                "purpose": wording.title if wording else str(Purpose(event.purpose).label),
                "purposeCategory": [PURPOSE_CATEGORIES[event.purpose]],
                "consentType": "EXPLICIT",  # never a pre-ticked box, never inferred from silence (SPEC §2)
                "piiCategory": list(PII_CATEGORIES[event.purpose]),
                "primaryPurpose": event.purpose == Purpose.DATA_PROCESSING,
                "termination": _termination(event.purpose, salon.consent_validity_months),
                "thirdPartyDisclosure": False,
                "thirdPartyName": "",
                "x-channel": event.channel,
                "x-action": event.action,
                "x-occurredAt": _utc_iso(event.occurred_at),
                "x-wordingVersion": wording.version if wording else None,
                "x-wordingSha256": event.wording_sha256,
                "x-registerEntry": event.seq,
                "x-entryHash": event.entry_hash,
            })
        collection_method = _collection_method(events)

    return {
        "version": KANTARA_VERSION,
        "jurisdiction": salon.phone_region,
        "consentTimestamp": timestamp,
        "collectionMethod": collection_method,
        "consentReceiptID": _receipt_id(client, events, timestamp),
        "language": client.language,
        # Pseudonymous on purpose: the receipt may be forwarded or stored outside the salon.
        "piiPrincipalId": f"salonconsent:client:{client.pk}",
        "piiControllers": [{
            "piiController": salon.controller_name,
            "contact": salon.name,
            # A postal address in schema.org's terms; the salon keeps it as one line.
            "address": {"streetAddress": salon.address, "addressCountry": salon.phone_region} if salon.address else {},
            "email": salon.contact_email,
            "phone": salon.contact_phone.as_e164 if salon.contact_phone else "",
            "piiControllerUrl": base_url,
        }],
        "policyUrl": f"{base_url}/privacy/{salon.slug}/",
        "services": [{"service": salon.name, "purposes": purposes}],
        "sensitive": False,
        "spiCat": [],
    }


def receipt_lines(*, events: list[ConsentEvent], language: str) -> str:
    """The choices as short GSM-friendly lines, one per register entry, in `language` and the salon's time zone."""
    if not events:
        return ""
    zones = {}
    lines = []
    with override(language):
        for event in sorted(events, key=lambda event: (event.salon_id, event.seq)):
            if event.salon_id not in zones:
                zones[event.salon_id] = ZoneInfo(event.salon.time_zone)
            params = {
                "purpose": Purpose(event.purpose).label,
                "answer": pgettext("consent receipt", "yes")
                if event.action == Action.GRANTED
                else pgettext("consent receipt", "no"),
                "when": date_format(timezone.localtime(event.occurred_at, zones[event.salon_id]),
                                    "SHORT_DATETIME_FORMAT"),
            }
            if event.channel:
                channel = Channel(event.channel).label if event.channel in Channel.values else event.channel
                lines.append(_("- %(purpose)s (%(channel)s): %(answer)s, %(when)s") % {**params, "channel": channel})
            else:
                lines.append(_("- %(purpose)s: %(answer)s, %(when)s") % params)
    return "\n".join(lines)
