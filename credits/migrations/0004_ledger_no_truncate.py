"""The credit ledger cannot be emptied: TRUNCATE is refused on PostgreSQL (SQLite has none)."""

from django.db import migrations

from core.db import NoTruncate


class Migration(migrations.Migration):
    dependencies = [("credits", "0003_ledger_entries_name_their_message")]

    operations = [NoTruncate("credits_creditentry", "credits_ledger_no_truncate")]
