"""Every salon's existing register becomes its Merkle tree head: the entries' hashes, in order, as leaves."""

from django.db import migrations

from consents.merkle import Frontier


def backfill(apps, schema_editor):
    ConsentEvent = apps.get_model("consents", "ConsentEvent")
    RegisterTree = apps.get_model("consents", "RegisterTree")
    for salon_id in ConsentEvent.objects.values_list("salon_id", flat=True).distinct().order_by():
        frontier = Frontier()
        hashes = ConsentEvent.objects.filter(salon_id=salon_id).order_by("seq").values_list("entry_hash", flat=True)
        for entry_hash in hashes.iterator(chunk_size=5000):
            frontier.append(bytes.fromhex(entry_hash))
        RegisterTree.objects.update_or_create(
            salon_id=salon_id, defaults={"size": frontier.size, "edge": [node.hex() for node in frontier.edge]}
        )


class Migration(migrations.Migration):
    dependencies = [("consents", "0008_register_tree")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
