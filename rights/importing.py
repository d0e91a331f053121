"""Import a salon's address book from a CSV file: every bad row reported by line, the good ones imported.

The command `import_clients` and the admin page "Import clients (CSV)" both call `import_clients`.

How it writes: the file is read and every row checked first (the dry run stops there). Then the good
rows are written in batches of `BATCH_ROWS`, each batch one transaction and each row a savepoint in
it. A row is all or nothing (a client is never left without the consents its row carried); a crash
loses at most the batch in flight, which re-importing the same file completes without duplicates;
and the register's per-salon lock is held for one batch, not for the whole file.
"""

import codecs
import csv
import io
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast, Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients.models import Client
from clients.services import create_client
from clients.suppression import contact_digests, suppressed_digests
from consents.models import Action, ConsentState, Source
from consents.selectors import current_wordings
from consents.services import ConsentChange, Evidence, record_consent
from core.contacts import email_key, normalise_email, parse_phone, phone_key
from core.vocabulary import LANGUAGE_CODES, Channel, Purpose
from salons.models import Salon

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
BATCH_ROWS = 200

# CSV column -> (purpose, channel) of the consent it carries.
CONSENT_COLUMNS = {
    "consent_data_processing": ("data_processing", ""),
    "consent_service_sms": (Purpose.SERVICE, Channel.SMS),
    "consent_service_email": (Purpose.SERVICE, Channel.EMAIL),
    "consent_marketing_sms": (Purpose.MARKETING, Channel.SMS),
    "consent_marketing_email": (Purpose.MARKETING, Channel.EMAIL),
    "consent_personalised": ("personalised", ""),
}
CLIENT_COLUMNS = ("first_name", "last_name", "phone", "email", "language", "last_visit")
COLUMNS = frozenset({*CLIENT_COLUMNS, *CONSENT_COLUMNS, "consent_source", "consent_date"})

# Yes and no as salons write them in the languages salonconsent speaks.
YES = frozenset({"yes", "y", "1", "true", "sì", "si", "oui", "ja", "kyllä", "kylla"})
NO = frozenset({"no", "n", "0", "false", "non", "nein", "ei"})
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
NAME_MAX = Client._meta.get_field("first_name").max_length
EMAIL_MAX = Client._meta.get_field("email").max_length


@dataclass(frozen=True)
class RowProblem:
    """Why one line of the file was not imported."""

    line: int
    reason: str
    imported: bool = False  # a warning about a row that was imported anyway

    def __str__(self):
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do); `file_error` set means nothing was imported."""

    dry_run: bool = False
    file_error: str = ""
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    consent_entries: int = 0

    @property
    def bad_rows(self) -> int:
        return len({problem.line for problem in self.problems if not problem.imported})

    @property
    def flagged_rows(self) -> int:
        """Rows imported with a warning: their contact was erased before (suppression list)."""
        bad = {problem.line for problem in self.problems if not problem.imported}
        return len({problem.line for problem in self.problems if problem.imported} - bad)

    @property
    def summary(self) -> str:
        parts = [
            ngettext("%(n)d client created", "%(n)d clients created", self.created) % {"n": self.created},
            _("%(n)d updated") % {"n": self.updated},
            _("%(n)d unchanged") % {"n": self.unchanged},
            ngettext("%(n)d consent entry recorded", "%(n)d consent entries recorded", self.consent_entries)
            % {"n": self.consent_entries},
            (ngettext("%(n)d bad row (listed above)", "%(n)d bad rows (listed above)", self.bad_rows)
             if self.bad_rows else _("0 bad rows")) % {"n": self.bad_rows},
        ]
        if self.flagged_rows:
            parts.append(ngettext("%(n)d imported without prior consent (erased before)",
                                  "%(n)d imported without prior consent (erased before)", self.flagged_rows)
                         % {"n": self.flagged_rows})
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """The report as printed: ignored columns, each bad row in file order, the summary."""
        lines = []
        if self.ignored_columns:
            lines.append(_("Ignored columns: %(names)s") % {"names": ", ".join(self.ignored_columns)})
        lines.extend(str(problem) for problem in self.problems)
        lines.append(self.summary)
        if self.dry_run:
            lines.append(_("Dry run: nothing was written."))
        return lines


class _FileProblem(Exception):
    """The file as a whole cannot be imported (internal: becomes `ImportReport.file_error`)."""


@dataclass
class _Row:
    """A checked row, ready to write: a new client, or the fields to fill on a matched one."""

    line: int
    client_id: int | None
    contacts: tuple[str, str]  # the phone in E.164 and the email in lower case, '' when absent
    fields: dict
    changes: list[ConsentChange]
    occurred_at: datetime | None
    note: str


def import_clients(
    *, salon: Salon, data: bytes, actor=None, evidence: Evidence | None = None, dry_run: bool = False
) -> ImportReport:
    """Import the clients of a CSV file into `salon`'s address book; with `dry_run`, only report.

    Existing clients of the salon are matched by phone or email and only their empty fields are
    filled; prior consents become register entries with source `import`, never overriding a newer choice.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        header, records = _read_csv(data)
        columns = _columns(header)
    except _FileProblem as problem:
        report.file_error = str(problem)
        return report
    report.ignored_columns = [name for name in columns if name not in COLUMNS and name]
    rows = _Checker(salon, columns, report).check(records)
    if not dry_run:
        _write(salon, rows, report, actor=actor, evidence=evidence or Evidence())
    else:
        for row in rows:
            if row.client_id is None:
                report.created += 1
            elif row.fields or row.changes:
                report.updated += 1
            else:
                report.unchanged += 1
            report.consent_entries += len(row.changes)
    report.problems.sort(key=lambda problem: problem.line)
    return report


# Reading the file --------------------------------------------------------------------------------


def _read_csv(data: bytes) -> tuple[tuple[int, list[str]], list[tuple[int, list[str]]]]:
    """Decode and split the file: the header and the non-empty rows, each with its physical line number."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _FileProblem(
            _("line %(line)d: not UTF-8 text; save the file as UTF-8") % {"line": line}
        ) from None

    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise _FileProblem(_("The file is empty: it needs a header row naming its columns"))
    header_line = lines[first]
    skip_until = 0
    if header_line.strip().lower().startswith("sep=") and len(header_line.strip()) == 5:
        # Excel's "sep=;" first line names the delimiter.
        delimiter, skip_until = header_line.strip()[4], first + 1
        header_line = next((line for line in lines[first + 1:] if line.strip()), "")
    else:
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    last = 0
    try:
        for values in reader:
            start, last = last + 1, reader.line_num
            if start <= skip_until or not any(value.strip() for value in values):
                continue  # empty lines (and rows of empty cells) are skipped silently
            records.append((start, [value.strip() for value in values]))
    except csv.Error as error:
        raise _FileProblem(_("line %(line)d: %(error)s") % {"line": last + 1, "error": error}) from None
    if not records:
        raise _FileProblem(_("The file is empty: it needs a header row naming its columns"))
    return records[0], records[1:]


def _columns(header: tuple[int, list[str]]) -> list[str]:
    """The header's column names, normalised ("First name" -> first_name); checks the required ones."""
    line, names = header
    columns = [name.strip().lower().replace(" ", "_").replace("-", "_") for name in names]
    seen = set()
    for name in columns:
        if name and name in seen:
            raise _FileProblem(_("line %(line)d: the column “%(name)s” appears twice") % {"line": line, "name": name})
        seen.add(name)
    if "first_name" not in seen:
        raise _FileProblem(_("line %(line)d: the header has no “first_name” column (columns found: %(found)s)")
                           % {"line": line, "found": ", ".join(name for name in columns if name) or "—"})
    if not seen & {"phone", "email"}:
        raise _FileProblem(_("line %(line)d: the header needs a “phone” or an “email” column") % {"line": line})
    return columns


# Checking rows -----------------------------------------------------------------------------------


def _stored_phone(stored: str, region: str) -> str:
    """A stored phone in E.164 (numbers saved before validation may be in another format)."""
    if not stored or stored.startswith("+"):
        return stored or ""
    return phone_key(stored, region)


def _parse_date(raw: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


class _Checker:
    """Checks rows against the file's earlier rows and the salon's address book, read once."""

    def __init__(self, salon: Salon, columns: list[str], report: ImportReport):
        self.salon = salon
        self.columns = columns
        self.report = report
        self.tz = zoneinfo.ZoneInfo(salon.time_zone)
        self.today = timezone.localdate(timezone=self.tz)
        # The salon's address book, read in one query: contact -> ids, and what a match may fill.
        self.by_phone: dict[str, list[int]] = defaultdict(list)
        self.by_email: dict[str, list[int]] = defaultdict(list)
        self.existing: dict[int, dict] = {}
        # The phone as stored (E.164), not parsed again for every client of the salon.
        for values in Client.objects.filter(salon=salon, erased_at__isnull=True).values(
            "pk", "email", "last_name", "last_visit", "language", stored_phone=Cast("phone", output_field=CharField())
        ):
            phone = _stored_phone(values.pop("stored_phone"), salon.phone_region)
            if phone:
                self.by_phone[phone].append(values["pk"])
            if values["email"]:
                self.by_email[values["email"].lower()].append(values["pk"])
            self.existing[values["pk"]] = {**values, "phone": phone}
        self.wordings: dict[str, dict] = {}
        # Contacts of erased clients (keyed hashes), read once.
        self.suppressed = suppressed_digests(salon)
        # Earlier good rows of the file: contact or matched client -> line.
        self.seen_phone: dict[str, int] = {}
        self.seen_email: dict[str, int] = {}
        self.seen_client: dict[int, int] = {}

    def problem(self, line: int, reason: str) -> None:
        self.report.problems.append(RowProblem(line, reason))

    def check(self, records) -> list["_Row"]:
        rows = [row for row in (self.check_row(line, values) for line, values in records) if row is not None]
        self._keep_consents_that_change_the_state(rows)
        return rows

    def check_row(self, line: int, values: list[str]) -> "_Row | None":
        extra = [value for value in values[len(self.columns):] if value]
        if extra:
            self.problem(line, _("%(found)d values but the header has %(expected)d columns (a stray delimiter?)")
                         % {"found": len(values), "expected": len(self.columns)})
            return None
        cells = {name: value for name, value in zip(self.columns, values, strict=False) if name}
        bad = len(self.report.problems)

        first_name, last_name = cells.get("first_name", ""), cells.get("last_name", "")
        if not first_name:
            self.problem(line, _("first_name is empty"))
        for name, value in (("first_name", first_name), ("last_name", last_name)):
            if len(value) > NAME_MAX:
                self.problem(line, _("%(column)s is longer than %(max)d characters")
                             % {"column": name, "max": NAME_MAX})

        phone = None
        try:
            phone = parse_phone(cells.get("phone", ""), self.salon.phone_region)
        except ValidationError as error:
            self.problem(line, " ".join(error.messages))
        email = normalise_email(cells.get("email", ""))
        if email:
            try:
                if len(email) > EMAIL_MAX:
                    raise ValidationError("too long")
                validate_email(email)
            except ValidationError:
                self.problem(line, _("“%(email)s” is not a valid email address") % {"email": email})
                email = ""
        if not cells.get("phone") and not cells.get("email"):
            self.problem(line, _("needs a phone or an email"))

        language = cells.get("language", "").lower() or self.salon.language
        if language not in LANGUAGE_CODES:
            self.problem(line, _("unknown language “%(value)s” (use %(codes)s)")
                         % {"value": cells["language"], "codes": ", ".join(LANGUAGE_CODES)})

        last_visit = self.date(line, cells, "last_visit")
        choices = self.consent_choices(line, cells)
        consent_date = self.date(line, cells, "consent_date")
        if choices and consent_date is None and not cells.get("consent_date"):
            self.problem(line, _("consent_date is required when a consent column says yes or no"))
        if len(self.report.problems) > bad:
            return None

        phone_e164 = phone.as_e164 if phone else ""
        email_lower = email_key(email)
        if phone_e164 and phone_e164 in self.seen_phone:
            self.problem(line, _("duplicate of line %(line)d (same phone)") % {"line": self.seen_phone[phone_e164]})
            return None
        if email_lower and email_lower in self.seen_email:
            self.problem(line, _("duplicate of line %(line)d (same email)") % {"line": self.seen_email[email_lower]})
            return None

        matches = set(self.by_phone.get(phone_e164, ())) | set(self.by_email.get(email_lower, ()))
        if len(matches) > 1:
            self.problem(line, _("the phone and email match %(n)d different clients of the salon (%(ids)s); "
                                 "merge them first") % {"n": len(matches), "ids": ", ".join(
                                     f"#{pk}" for pk in sorted(matches))})
            return None
        client_id = matches.pop() if matches else None
        if client_id is not None and client_id in self.seen_client:
            self.problem(line, _("duplicate of line %(line)d (same client)") % {"line": self.seen_client[client_id]})
            return None

        if client_id is None:
            fields = {"first_name": first_name, "last_name": last_name, "phone": phone or "", "email": email,
                      "language": language, "last_visit": last_visit}
        else:
            # Fill only what the client lacks: never overwrite what the staff typed.
            current = self.existing[client_id]
            language = current["language"]
            fields = {name: value for name, value in (("last_name", last_name), ("phone", phone), ("email", email),
                                                      ("last_visit", last_visit))
                      if value and not current[name]}

        if client_id is None and self.suppressed and self.suppressed.intersection(
            contact_digests(self.salon, phone=phone, email=email)
        ):
            # An erased client's contact: a new client, and the file's old consents do not bring marketing back.
            self.report.problems.append(RowProblem(line, _(
                "contact was erased before (suppression list): imported as a new client without prior consent"
            ), imported=True))
            choices = {}

        changes = []
        if choices:
            wordings = self.wordings_for(language)
            for (purpose, channel), granted in choices.items():
                wording = wordings.get(purpose) if granted else None
                if granted and wording is None:
                    self.problem(line, _("there is no consent wording for “%(purpose)s”; add one before importing "
                                         "consents") % {"purpose": purpose})
                    return None
                changes.append(ConsentChange(purpose, granted, channel, wording))

        if phone_e164:
            self.seen_phone[phone_e164] = line
        if email_lower:
            self.seen_email[email_lower] = line
        if client_id is not None:
            self.seen_client[client_id] = line
        source = cells.get("consent_source", "")[:150] or "no source given"
        return _Row(
            line=line, client_id=client_id, contacts=(phone_e164, email_lower), fields=fields, changes=changes,
            occurred_at=datetime.combine(consent_date, time.min, tzinfo=self.tz) if changes else None,
            # The wording shown back then is unknown: the entry references today's, and says so.
            note=f"imported: {source} (wording shown then unknown; current wording referenced)",
        )

    def date(self, line: int, cells: dict, column: str) -> date | None:
        raw = cells.get(column, "")
        if not raw:
            return None
        value = _parse_date(raw)
        if value is None:
            self.problem(line, _("%(column)s “%(value)s” is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
                         % {"column": column, "value": raw})
        elif value > self.today:
            self.problem(line, _("%(column)s %(value)s is in the future") % {"column": column, "value": value})
            return None
        return value

    def consent_choices(self, line: int, cells: dict) -> dict[tuple[str, str], bool]:
        choices = {}
        for column, key in CONSENT_COLUMNS.items():
            raw = cells.get(column, "")
            if not raw:
                continue
            if raw.lower() in YES:
                choices[key] = True
            elif raw.lower() in NO:
                choices[key] = False
            else:
                self.problem(line, _("%(column)s “%(value)s” is not yes, no or blank")
                             % {"column": column, "value": raw})
        return choices

    def wordings_for(self, language: str) -> dict:
        if language not in self.wordings:
            self.wordings[language] = current_wordings(salon=self.salon, language=language)
        return self.wordings[language]

    def _keep_consents_that_change_the_state(self, rows: list[_Row]) -> None:
        """Drop the choices a matched client's current state already holds, or holds a newer answer to.

        record_consent would keep the newest choice in the current state anyway; dropping them here
        also keeps the register free of a repeated entry at every re-import, and makes the dry run exact.
        """
        ids = [row.client_id for row in rows if row.client_id is not None and row.changes]
        states: dict[int, dict] = defaultdict(dict)
        for start in range(0, len(ids), 500):
            for client_id, purpose, channel, action, occurred_at in ConsentState.objects.filter(
                client_id__in=ids[start:start + 500]
            ).values_list("client_id", "purpose", "channel", "action", "occurred_at"):
                states[client_id][(purpose, channel)] = (action, occurred_at)
        for row in rows:
            if row.client_id is None or not row.changes:
                continue
            kept = []
            for change in row.changes:
                state = states[row.client_id].get(change.key)
                action = Action.GRANTED if change.granted else Action.WITHDRAWN
                if state is None or (state[0] != action and row.occurred_at >= state[1]):
                    kept.append(change)
            row.changes = kept


# Writing -----------------------------------------------------------------------------------------


def _write(salon: Salon, rows: list[_Row], report: ImportReport, *, actor, evidence: Evidence) -> None:
    for start in range(0, len(rows), BATCH_ROWS):
        chunk = rows[start:start + BATCH_ROWS]
        # A matched client with nothing to fill and no consent to record is not touched at all.
        batch = [row for row in chunk if row.client_id is None or row.fields or row.changes]
        report.unchanged += len(chunk) - len(batch)
        with transaction.atomic():
            # The lock record_consent takes anyway, taken first: a second import of the same file
            # (a double click) waits here, then finds the clients this one created.
            list(Salon.objects.select_for_update(no_key=True).filter(pk=salon.pk).values_list("pk"))
            taken = _contacts_taken(salon, [row for row in batch if row.client_id is None])
            for row in batch:
                if row.client_id is None and taken.intersection(filter(None, row.contacts)):
                    report.problems.append(RowProblem(row.line, _(
                        "a client with this phone or email was added while the file was being imported; "
                        "import the file again to update it")))
                    continue
                try:
                    with transaction.atomic():
                        _write_row(salon, row, report, actor=actor, evidence=evidence)
                except ValidationError as error:
                    report.problems.append(RowProblem(row.line, " ".join(error.messages)))


def _contacts_taken(salon: Salon, rows: list[_Row]) -> set[str]:
    """Which of these new rows' phones and emails a client of the salon has now, in one query."""
    phones = [row.contacts[0] for row in rows if row.contacts[0]]
    emails = [row.contacts[1] for row in rows if row.contacts[1]]
    if not phones and not emails:
        return set()
    found = Client.objects.filter(salon=salon, erased_at__isnull=True).annotate(
        stored_phone=Cast("phone", output_field=CharField()), email_lower=Lower("email"),
    ).filter(Q(stored_phone__in=phones) | Q(email_lower__in=emails)).values_list("stored_phone", "email_lower")
    return {contact for pair in found for contact in pair if contact}


def _write_row(salon: Salon, row: _Row, report: ImportReport, *, actor, evidence: Evidence) -> None:
    """One row, inside its savepoint: the client created or filled in, then its consents recorded."""
    if row.client_id is None:
        client = create_client(salon=salon, **row.fields)
        changed = True
    else:
        client = Client.objects.select_for_update().filter(pk=row.client_id, erased_at__isnull=True).first()
        if client is None:
            raise ValidationError(_("the matching client was erased during the import"))
        filled = [name for name in row.fields if not getattr(client, name)]
        for name in filled:  # re-checked under the lock: a staff edit since the check wins
            setattr(client, name, row.fields[name])
        if "last_visit" in filled and client.lifecycle == Client.Lifecycle.PROSPECT:
            client.lifecycle = Client.Lifecycle.CLIENT
            filled.append("lifecycle")
        if filled:  # the values were checked with the row; this also keeps old, odd data from blocking it
            client.full_clean(exclude=[f.name for f in Client._meta.fields if f.name not in filled])
            client.save(update_fields=[*filled, "updated_at"])
        changed = bool(filled)
    events = []
    if row.changes:
        events = record_consent(
            client=client, changes=row.changes, source=Source.IMPORT, actor=actor,
            evidence=replace(evidence, note=row.note), occurred_at=row.occurred_at, skip_unchanged=True,
        )
    report.consent_entries += len(events)
    if row.client_id is None:
        report.created += 1
    elif changed or events:
        report.updated += 1
    else:
        report.unchanged += 1
