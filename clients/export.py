"""A client's data as one JSON document (GDPR access and portability)."""

from django.utils import timezone

SCHEMA = "salonconsent.client-export/1"


def _iso(value):
    return value.isoformat() if value else None


def export_client_data(client) -> dict:
    """Contact data, appointments, the consent register with the words shown, and messages sent."""
    from consents.models import ConsentEvent
    from messaging.models import Message

    events = ConsentEvent.objects.filter(client=client).select_related("wording").order_by("seq")
    return {
        "schema": SCHEMA,
        "exported_at": _iso(timezone.now()),
        "salon": {"name": client.salon.name},
        "client": {
            "first_name": client.first_name, "last_name": client.last_name, "email": client.email,
            "phone": client.phone.as_e164 if client.phone else "", "language": client.language,
            "last_visit": _iso(client.last_visit), "processing_restricted": client.is_restricted,
            "created_at": _iso(client.created_at),
        },
        "appointments": [
            {"starts_at": _iso(a.starts_at), "ends_at": _iso(a.ends_at), "service": a.service, "status": a.status}
            for a in client.appointments.order_by("starts_at")
        ],
        "consent_register": [
            {
                "entry": e.seq, "purpose": e.purpose, "channel": e.channel, "action": e.action,
                "occurred_at": _iso(e.occurred_at), "source": e.source,
                "wording": {"version": e.wording.version, "language": e.wording.language, "title": e.wording.title,
                            "text": e.wording.text, "sha256": e.wording_sha256} if e.wording else None,
                "entry_hash": e.entry_hash,
            }
            for e in events
        ],
        "messages": [
            {"kind": m.kind, "channel": m.channel, "created_at": _iso(m.created_at), "status": m.status,
             "body": m.body}
            for m in Message.objects.filter(client=client).order_by("created_at")
        ],
    }
