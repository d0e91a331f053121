"""The database refuses UPDATE and DELETE on the credit ledger."""

from django.db import migrations

from core.db import AppendOnly


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]

    operations = [AppendOnly("credits_creditentry", "credits_ledger_append_only")]
