"""Test helpers for the register: one-change grants and withdrawals, the proof export written to a stream,
and a way around the register's guards, to prove that verification catches tampering."""

from collections.abc import Iterable
from contextlib import contextmanager
from typing import TextIO

from django.db import connection

from clients.models import Client
from consents.export import _register, iter_csv, iter_json, used_wordings
from consents.models import ConsentWording
from consents.services import ConsentChange, record_consent
from salons.models import Salon


@contextmanager
def register_trigger_disabled():
    """Lift the append-only triggers inside the test's transaction (rolled back after the test).

    This is what a database superuser could do; the hash chain is there to catch it.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            yield cursor
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            saved = dict(
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name LIKE 'consents_%'"
                ).fetchall()
            )
            for name in saved:
                cursor.execute(f"DROP TRIGGER {name}")
            yield cursor
            for sql in saved.values():
                cursor.execute(sql)


def grant(*, client: Client, purpose: str, channel: str = "", wording: ConsentWording, source: str, **kwargs):
    """Record one grant through `record_consent`."""
    return record_consent(
        client=client, changes=[ConsentChange(purpose, True, channel, wording)], source=source, **kwargs
    )


def withdraw(*, client: Client, purpose: str, channel: str = "", source: str, wording=None, **kwargs):
    """Record one withdrawal through `record_consent`."""
    return record_consent(
        client=client, changes=[ConsentChange(purpose, False, channel, wording)], source=source, **kwargs
    )


def write_csv(rows: Iterable[dict], stream: TextIO) -> int:
    """Write the entries to a text stream as CSV, line by line; returns how many were written."""
    lines = iter_csv(rows)
    stream.write(next(lines))
    count = 0
    for line in lines:
        stream.write(line)
        count += 1
    return count


def write_json(
    rows: Iterable[dict], stream: TextIO, *, salon: Salon, head_hash: str, verified: bool = True,
    problem: str = "", client: Client | None = None, up_to_seq: int | None = None,
) -> None:
    """Write the entries to a text stream as one JSON document, entry by entry, after a small header.

    The header's count and wordings are read for the same salon, client and `up_to_seq` as `rows`.
    """
    scope = {"salon": salon, "client": client, "up_to_seq": up_to_seq}
    pieces = iter_json(
        rows, salon=salon, head_hash=head_hash, verified=verified, problem=problem, client=client,
        entry_count=_register(**scope).count(), wordings=used_wordings(**scope),
    )
    for piece in pieces:
        stream.write(piece)
