"""The database itself refuses UPDATE and DELETE on the consent register, and any change to a
wording's words once an entry refers to it."""

from django.db import migrations

from core.db import AppendOnly

WORDING_PG = """
CREATE OR REPLACE FUNCTION consents_wording_frozen() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM consents_consentevent WHERE wording_id = OLD.id) THEN
        RAISE EXCEPTION 'consent wording % has been shown to clients: its words cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER consents_wording_frozen
    BEFORE UPDATE OF title, text, sha256, purpose, language, version, salon_id ON consents_consentwording
    FOR EACH ROW EXECUTE FUNCTION consents_wording_frozen();
"""

WORDING_SQLITE = """
CREATE TRIGGER consents_wording_frozen
BEFORE UPDATE OF title, text, sha256, purpose, language, version, salon_id ON consents_consentwording
WHEN EXISTS (SELECT 1 FROM consents_consentevent WHERE wording_id = OLD.id)
BEGIN SELECT RAISE(ABORT, 'consent wording has been shown to clients: its words cannot change'); END;
"""


def freeze_used_wordings(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute({"postgresql": WORDING_PG, "sqlite": WORDING_SQLITE}[vendor], params=None)


def unfreeze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS consents_wording_frozen ON consents_consentwording")
    else:
        schema_editor.execute("DROP TRIGGER IF EXISTS consents_wording_frozen")


class Migration(migrations.Migration):
    dependencies = [("consents", "0001_initial")]

    operations = [
        AppendOnly("consents_consentevent", "consents_register_append_only"),
        migrations.RunPython(freeze_used_wordings, unfreeze, elidable=False),
    ]
