"""The register, its current state and the wordings cannot be emptied, and the current state cannot disagree
with the register: a state row must point at the latest entry for its client, purpose and channel, and say
what that entry says. TRUNCATE is refused on PostgreSQL (SQLite has none); the state check runs on both."""

from django.db import migrations

from core.db import NoTruncate

STATE_PG = """
CREATE OR REPLACE FUNCTION consents_state_follows_register() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'consents_consentstate follows the register: DELETE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM consents_consentevent e
        WHERE e.id = NEW.event_id AND e.client_id = NEW.client_id AND e.salon_id = NEW.salon_id
          AND e.purpose = NEW.purpose AND e.channel = NEW.channel AND e.action = NEW.action
          AND e.occurred_at = NEW.occurred_at
          AND NOT EXISTS (
              SELECT 1 FROM consents_consentevent x
              WHERE x.client_id = e.client_id AND x.purpose = e.purpose AND x.channel = e.channel
                AND (x.occurred_at, x.seq) > (e.occurred_at, e.seq))
    ) THEN
        RAISE EXCEPTION 'consents_consentstate must be the latest register entry for client %, % %: refused',
            NEW.client_id, NEW.purpose, NEW.channel USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consents_state_follows_register
    BEFORE INSERT OR UPDATE OR DELETE ON consents_consentstate
    FOR EACH ROW EXECUTE FUNCTION consents_state_follows_register();
"""

_SQLITE_DISAGREES = """
NOT EXISTS (
    SELECT 1 FROM consents_consentevent e
    WHERE e.id = NEW.event_id AND e.client_id = NEW.client_id AND e.salon_id = NEW.salon_id
      AND e.purpose = NEW.purpose AND e.channel = NEW.channel AND e.action = NEW.action
      AND e.occurred_at = NEW.occurred_at
      AND NOT EXISTS (
          SELECT 1 FROM consents_consentevent x
          WHERE x.client_id = e.client_id AND x.purpose = e.purpose AND x.channel = e.channel
            AND (x.occurred_at > e.occurred_at OR (x.occurred_at = e.occurred_at AND x.seq > e.seq))))
"""
STATE_SQLITE = [
    f"""CREATE TRIGGER consents_state_follows_register_insert BEFORE INSERT ON consents_consentstate
    WHEN {_SQLITE_DISAGREES}
    BEGIN SELECT RAISE(ABORT, 'consents_consentstate must be the latest register entry: refused'); END;""",
    f"""CREATE TRIGGER consents_state_follows_register_update BEFORE UPDATE ON consents_consentstate
    WHEN {_SQLITE_DISAGREES}
    BEGIN SELECT RAISE(ABORT, 'consents_consentstate must be the latest register entry: refused'); END;""",
    """CREATE TRIGGER consents_state_follows_register_delete BEFORE DELETE ON consents_consentstate
    BEGIN SELECT RAISE(ABORT, 'consents_consentstate follows the register: DELETE refused'); END;""",
]


def guard_state(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATE_PG, params=None)
    else:
        for statement in STATE_SQLITE:
            schema_editor.execute(statement, params=None)


def unguard_state(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS consents_state_follows_register ON consents_consentstate")
    else:
        for verb in ("insert", "update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS consents_state_follows_register_{verb}")


class Migration(migrations.Migration):
    dependencies = [("consents", "0006_link_token_nonce")]

    operations = [
        NoTruncate("consents_consentevent", "consents_register_no_truncate"),
        NoTruncate("consents_consentstate", "consents_state_no_truncate"),
        NoTruncate("consents_consentwording", "consents_wordings_no_truncate"),
        migrations.RunPython(guard_state, unguard_state, elidable=False),
    ]
