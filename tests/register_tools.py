"""Test helpers that bypass the register's guards, to prove that verification catches tampering."""

from contextlib import contextmanager

from django.db import connection


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
