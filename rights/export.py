"""A client's data as one JSON document or one CSV file (GDPR art. 15 access and art. 20 portability).

JSON, schema `salonconsent.client-export/2` (a key is only ever added within a version; renaming or
removing one makes a new version). Times are ISO 8601 with offset, dates YYYY-MM-DD, absent values null:

- `schema`, `exported_at`, `salon` {`name`}
- `client`: `id`, `first_name`, `last_name`, `email`, `phone` (E.164), `notes`, `language`, `lifecycle`,
  `last_visit`, `processing_restricted`, `sms_suppression`, `email_suppression`, `created_at`, `erased_at`
- `appointments[]`: `id`, `starts_at`, `ends_at`, `service`, `status`
- `consent_register[]` (the append-only register, oldest first): `entry` (its number in the salon's
  register), `purpose`, `channel`, `action` (granted|withdrawn), `occurred_at`, `recorded_at`, `source`,
  `evidence` {`ip`, `user_agent`, `request_id`, `note`}, `wording` {`version`, `language`, `title`,
  `text`, `sha256`} or null, `entry_hash`
- `current_consents[]`: `purpose`, `channel`, `state` (granted|withdrawn), `since`
- `consent_scans[]`: `id`, `file`, `sha256`, `uploaded_at`
- `contact_changes[]`: `field`, `old_value_masked`, `cleared_suppression`, `changed_at`
- `erasure_requests[]`: `requested_at`, `due_at`, `status`, `handled_at`, `reason`
- `messages[]` (the outbox, oldest first): `id`, `kind`, `channel`, `recipient`, `subject`, `body`,
  `headers`, `status`, `reason`, `reason_text`, `error_code`, `error_text`, `created_at`, `sent_at`,
  `delivered_at`

Every field `rights.inventory` classifies as personal (erased or kept as proof) is in its section.

CSV: the same document in long form, one value per row, so every section fits one file and the two
formats cannot disagree. Columns `section,item,field,value`: `section` is a top-level key (`export` for
`schema`, `exported_at` and the salon), `item` the 1-based position in a list section (1 for the
others), `field` the key, nested keys joined with dots (`wording.text`, `headers.To`); null is empty.
"""

import csv
import io
from datetime import date, datetime

from django.utils import timezone

from rights.inventory import personal_field_names

SCHEMA = "salonconsent.client-export/2"
CSV_COLUMNS = ("section", "item", "field", "value")


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "as_e164"):  # a PhoneNumber
        return value.as_e164
    if hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return value


def _row(obj, label: str, *names: str, **extra) -> dict:
    """The listed fields, then every personal field the inventory declares for the model, then `extra`."""
    fields = [*names, *(name for name in personal_field_names(label) if name not in names)]
    return {**{name: _value(getattr(obj, name)) for name in fields}, **extra}


def export_client_data(client) -> dict:
    """Contact data, appointments, the consent register with the words shown, and every message with its outcome."""
    from consents.models import ConsentEvent, ConsentState
    from messaging.models import Message

    events = ConsentEvent.objects.filter(client=client).select_related("wording").order_by("seq")
    return {
        "schema": SCHEMA,
        "exported_at": _iso(timezone.now()),
        "salon": {"name": client.salon.name},
        "client": _row(
            client, "clients.Client", "id", "first_name", "last_name", "email", "phone", "notes", "language",
            "lifecycle", "last_visit", processing_restricted=client.is_restricted,
            sms_suppression=client.sms_suppression, email_suppression=client.email_suppression,
            created_at=_iso(client.created_at), erased_at=_iso(client.erased_at),
        ),
        "appointments": [
            _row(a, "appointments.Appointment", "id", "starts_at", "ends_at", "service", "status")
            for a in client.appointments.order_by("starts_at", "pk")
        ],
        "consent_register": [
            {
                "entry": e.seq, "purpose": e.purpose, "channel": e.channel, "action": e.action,
                "occurred_at": _iso(e.occurred_at), "recorded_at": _iso(e.recorded_at), "source": e.source,
                "evidence": {name: getattr(e, name) for name in personal_field_names("consents.ConsentEvent")},
                "wording": {"version": e.wording.version, "language": e.wording.language, "title": e.wording.title,
                            "text": e.wording.text, "sha256": e.wording_sha256} if e.wording else None,
                "entry_hash": e.entry_hash,
            }
            for e in events
        ],
        "current_consents": [
            {"purpose": s.purpose, "channel": s.channel, "state": s.action, "since": _iso(s.occurred_at)}
            for s in ConsentState.objects.filter(client=client).order_by("purpose", "channel")
        ],
        "consent_scans": [
            _row(s, "consents.ConsentScan", "id", "file", "sha256", "uploaded_at")
            for s in client.consent_scans.order_by("uploaded_at", "pk")
        ],
        "contact_changes": [
            _row(c, "clients.ContactChange", "field", "old_value_masked", "cleared_suppression", "changed_at")
            for c in client.contact_changes.order_by("changed_at", "pk")
        ],
        "erasure_requests": [
            _row(r, "clients.ErasureRequest", "requested_at", "due_at", "status", "handled_at", "reason")
            for r in client.erasure_requests.order_by("requested_at", "pk")
        ],
        "messages": [
            _row(m, "messaging.Message", "id", "kind", "channel", "recipient", "subject", "body", "headers", "status",
                 "reason", "reason_text", "error_code", "error_text", "created_at", "sent_at", "delivered_at")
            for m in Message.objects.filter(client=client).order_by("created_at", "pk")
        ],
    }


def _iso(value):
    return value.isoformat() if value else None


def _flatten(prefix: str, value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    elif isinstance(value, list):
        for position, inner in enumerate(value, start=1):
            yield from _flatten(f"{prefix}.{position}", inner)
    else:
        yield prefix, "" if value is None else value


def export_rows(document: dict):
    """The export document as (section, item, field, value) rows: the CSV's content."""
    for name in ("schema", "exported_at"):
        yield "export", 1, name, document[name]
    for field, value in _flatten("salon", document["salon"]):
        yield "export", 1, field, value
    for section, content in document.items():
        if section in ("schema", "exported_at", "salon"):
            continue
        items = content if isinstance(content, list) else [content]
        for position, item in enumerate(items, start=1):
            for field, value in _flatten("", item):
                yield section, position, field, value


def export_client_csv(client) -> str:
    """The client's export (same content as the JSON) as one CSV in long form: section, item, field, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(export_rows(export_client_data(client)))
    return out.getvalue()
