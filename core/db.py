"""Database helpers shared by apps: append-only tables enforced by triggers on each backend, and a
per-key serialisation of writers."""

from django.db import connection, migrations

_SQLITE_TRIGGER = """
CREATE TRIGGER {name}_no_{verb} BEFORE {verb_upper} ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb_upper} refused'); END;
"""

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION salonconsent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _install(table: str, name: str):
    def forwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_PG_FUNCTION, params=None)
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION salonconsent_refuse_change()"
            )
        elif vendor == "sqlite":
            for verb in ("update", "delete"):
                schema_editor.execute(
                    _SQLITE_TRIGGER.format(name=name, verb=verb, verb_upper=verb.upper(), table=table)
                )
        else:
            raise NotImplementedError(f"append-only trigger for {vendor} is not written yet")

    def backwards(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        elif vendor == "sqlite":
            for verb in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_no_{verb}")

    return forwards, backwards


def AppendOnly(table: str, name: str) -> migrations.RunPython:
    """A migration operation making `table` refuse UPDATE and DELETE at the database level."""
    forwards, backwards = _install(table, name)
    return migrations.RunPython(forwards, backwards, elidable=False)


def NoTruncate(table: str, name: str) -> migrations.RunPython:
    """A migration operation making `table` refuse TRUNCATE on PostgreSQL (a statement-level trigger).

    SQLite has no TRUNCATE: its DELETE without WHERE is refused row by row by `AppendOnly`. Only a
    superuser (the owner of the cluster) can lift it, with session_replication_role = replica, which the
    test suite's own flush does for that one statement and nothing else may (see conftest).
    """

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_PG_FUNCTION, params=None)
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION salonconsent_refuse_change()"
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")

    return migrations.RunPython(forwards, backwards, elidable=False)


def serialise_on(namespace: int, key: int) -> None:
    """Inside a transaction, wait for any other transaction holding the same (namespace, key) until it ends.

    On PostgreSQL a transaction-level advisory lock; on SQLite nothing is needed (a write transaction holds the
    database's one write lock from BEGIN IMMEDIATE). Used where two writers would otherwise deadlock on a
    constraint check instead of one simply waiting for the other.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key])
