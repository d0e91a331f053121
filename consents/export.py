"""Proof of consent for an auditor: a salon's register (or one client's entries) as CSV or JSON.

Every exported entry carries the fields its hash covers, so an auditor can recompute the chain
without salonconsent: `entry_hash` is the SHA-256 of the canonical JSON (keys sorted, separators
"," and ":", UTF-8, non-ASCII kept as is) of the object below, whose values come from the export's
columns (`HASH_INPUTS`: hash key → column). Timestamps are exported exactly as hashed
(ISO 8601, UTC, microseconds, "Z"); an empty `wording_id` or `staff_id` column is JSON null.

    {"v": 1, "prev": prev_hash, "seq": entry, "salon": salon_id, "client": client_id, "purpose": ...,
     "channel": ..., "action": ..., "occurred_at": ..., "recorded_at": ..., "wording": wording_id,
     "wording_sha256": ..., "source": ..., "actor": staff_id, "ip": ..., "user_agent": ...,
     "request_id": ..., "note": ...}

The first entry's `prev_hash` is 64 zeros; each next one's is the previous `entry_hash`; the last
entry's hash is the register's head, given in the JSON header from `verify_register`. The words
shown are checked apart: `wording_sha256` is the SHA-256 of "<title>\\n\\n<text>" (UTF-8).
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from salons.models import Salon

from .chain import CHAIN_VERSION, HASH_KEYS
from .integrity import RegisterCheck, verify_register
from .models import ConsentEvent, ConsentWording, wording_digest

SCHEMA = "salonconsent.consent-register/1"

# Columns, in order. Personal columns are empty for an erased client; the rest is pseudonymous proof.
COLUMNS = (
    "salon_id", "salon_name", "entry", "client_id", "client_first_name", "client_last_name", "client_phone",
    "client_email", "purpose", "channel", "action", "occurred_at", "recorded_at", "source", "staff_id",
    "staff_username", "ip", "user_agent", "request_id", "note", "wording_id", "wording_version",
    "wording_language", "wording_title", "wording_sha256", "wording_sha256_matches", "prev_hash", "entry_hash",
)
PERSONAL_COLUMNS = ("client_first_name", "client_last_name", "client_phone", "client_email")

# What `consents.chain.entry_hash` covers: the key in the hashed JSON object → the exported column
# (the column is the field's own name but for these two).
_EXPORTED_AS = {"seq": "entry", "actor_id": "staff_id"}
HASH_INPUTS = {key: _EXPORTED_AS.get(field, field) for field, key in HASH_KEYS.items()}


def _utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, exactly as the hash chain encodes it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None


def _register(*, salon: Salon, client: Client | None, up_to_seq: int | None):
    if client is not None and client.salon_id != salon.pk:
        raise ValidationError(_("This client belongs to another salon."))
    entries = ConsentEvent.objects.filter(salon=salon)
    if client is not None:
        entries = entries.filter(client=client)
    if up_to_seq is not None:
        entries = entries.filter(seq__lte=up_to_seq)
    return entries


def export_register(
    *, salon: Salon, client: Client | None = None, up_to_seq: int | None = None, chunk_size: int = 2000
) -> Iterator[dict]:
    """The salon's register entries (or one client's) in chain order, one dict per entry (`COLUMNS`).

    Streams with one query whatever the register's size. `up_to_seq` pins the export to a verified head.
    """
    entries = (
        _register(salon=salon, client=client, up_to_seq=up_to_seq)
        .select_related("salon", "client", "actor", "wording")
        .order_by("seq")
        .iterator(chunk_size=chunk_size)
    )
    current_digests: dict[int, str] = {}  # per wording: the hash of its words as they are now
    for event in entries:
        person, wording = event.client, event.wording
        personal = not person.is_erased
        if wording is not None and wording.pk not in current_digests:
            current_digests[wording.pk] = wording_digest(wording.title, wording.text)
        yield {
            "salon_id": event.salon_id,
            "salon_name": event.salon.name,
            "entry": event.seq,
            "client_id": event.client_id,
            "client_first_name": person.first_name if personal else "",
            "client_last_name": person.last_name if personal else "",
            "client_phone": person.phone.as_e164 if personal and person.phone else "",
            "client_email": person.email if personal else "",
            "purpose": event.purpose,
            "channel": event.channel,
            "action": event.action,
            "occurred_at": _utc(event.occurred_at),
            "recorded_at": _utc(event.recorded_at),
            "source": event.source,
            "staff_id": event.actor_id,
            "staff_username": event.actor.get_username() if event.actor else "",
            "ip": event.ip,
            "user_agent": event.user_agent,
            "request_id": event.request_id,
            "note": event.note,
            "wording_id": event.wording_id,
            "wording_version": wording.version if wording else None,
            "wording_language": wording.language if wording else "",
            "wording_title": wording.title if wording else "",
            "wording_sha256": event.wording_sha256,
            "wording_sha256_matches": (
                event.wording_sha256 == current_digests[wording.pk] if wording is not None else None
            ),
            "prev_hash": event.prev_hash,
            "entry_hash": event.entry_hash,
        }


def used_wordings(*, salon: Salon, client: Client | None = None, up_to_seq: int | None = None) -> list[dict]:
    """The distinct wordings the exported entries name, with their words and hashes (one query)."""
    used = _register(salon=salon, client=client, up_to_seq=up_to_seq).filter(wording__isnull=False)
    wordings = ConsentWording.objects.filter(pk__in=used.values("wording_id")).order_by("pk")
    return [
        {
            "id": w.pk, "purpose": w.purpose, "language": w.language, "version": w.version, "title": w.title,
            "text": w.text, "sha256": w.sha256, "sha256_matches": w.sha256 == wording_digest(w.title, w.text),
        }
        for w in wordings
    ]


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a generator."""

    def write(self, value):
        return value


def iter_csv(rows: Iterable[dict]) -> Iterator[str]:
    """CSV text, a header line then a line per entry; None is empty, booleans are true/false."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([_csv_value(row[column]) for column in COLUMNS])


def iter_json(
    rows: Iterable[dict], *, salon: Salon, head_hash: str, verified: bool, problem: str = "",
    client: Client | None = None, entry_count: int, wordings: list[dict],
) -> Iterator[str]:
    """A JSON document in pieces: the header (the anchor, the words used), then the entries one by one."""
    header = {
        "schema": SCHEMA,
        "salon": {"id": salon.pk, "name": salon.name},
        "client_id": client.pk if client is not None else None,
        "exported_at": _utc(timezone.now()),
        "entry_count": entry_count,
        "register": {"head_hash": head_hash, "verified": verified, "problem": problem},
        "hash": {"chain_version": CHAIN_VERSION, "algorithm": "sha256, canonical JSON (sorted keys, no spaces)",
                 "inputs": HASH_INPUTS},
        "wordings": wordings,
    }
    opening = json.dumps(header, ensure_ascii=False, indent=1)
    yield opening[:-2] + ',\n "entries": ['  # reopen the header object to stream the entries into it
    separator = "\n  "
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n  "
    yield "\n ]\n}\n"


FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True)
class ProofOfConsent:
    """A verified export ready to write: the register check, what it holds and its text in pieces."""

    salon: Salon
    client: Client | None
    format: str
    check: RegisterCheck
    entry_count: int
    chunks: Iterator[str]

    @property
    def content_type(self) -> str:
        return FORMATS[self.format]

    @property
    def filename(self) -> str:
        who = f"-client-{self.client.pk}" if self.client is not None else ""
        return f"consent-register-{self.salon.slug}{who}-{timezone.now():%Y%m%d}.{self.format}"


def proof_of_consent(*, salon: Salon, client: Client | None = None, fmt: str) -> ProofOfConsent:
    """Verify the salon's register, then prepare its export (or one client's) up to the verified head.

    What the command and the admin both call. A register that fails verification is still exported
    (the auditor should see it); `check.ok` says so and the header carries the problem.
    """
    if fmt not in FORMATS:
        raise ValidationError(_("Unknown export format “%(format)s”: use csv or json.") % {"format": fmt})
    if client is not None and client.salon_id != salon.pk:
        raise ValidationError(_("This client belongs to another salon."))
    check = verify_register(salon)
    # Entries appended after the check are left out, so the head hash anchors exactly what is exported.
    up_to_seq = check.entries if check.ok else None
    scope = {"salon": salon, "client": client, "up_to_seq": up_to_seq}
    entry_count = _register(**scope).count()
    rows = export_register(**scope)
    if fmt == "csv":
        chunks = iter_csv(rows)
    else:
        chunks = iter_json(
            rows, salon=salon, head_hash=check.head_hash if check.ok else "", verified=check.ok,
            problem=check.problem, client=client, entry_count=entry_count, wordings=used_wordings(**scope),
        )
    return ProofOfConsent(salon, client, fmt, check, entry_count, chunks)
