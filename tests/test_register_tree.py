"""The register's Merkle tree head is kept by the writer with every entry and checked by verify_register."""

import pytest
from django.db import connection

from consents.integrity import verify_register
from consents.merkle import root
from consents.models import ConsentEvent, RegisterTree
from tests.factories import ClientFactory
from tests.register_tools import grant, withdraw

pytestmark = pytest.mark.django_db


def entry_hashes(salon) -> list[bytes]:
    return [bytes.fromhex(h) for h in
            ConsentEvent.objects.filter(salon=salon).order_by("seq").values_list("entry_hash", flat=True)]


@pytest.fixture
def history(salon, wording):
    clients = ClientFactory.create_batch(3, salon=salon)
    for client in clients:
        grant(client=client, purpose="marketing", channel="sms", wording=wording(salon, "marketing"),
              source="form_link")
        withdraw(client=client, purpose="marketing", channel="sms", source="form_link")
    return clients


def test_every_entry_grows_the_salons_tree_head(history, salon, other_salon, wording):
    tree = RegisterTree.objects.get(salon=salon)
    assert tree.size == 6
    assert tree.frontier().root() == root(entry_hashes(salon))
    assert not RegisterTree.objects.filter(salon=other_salon).exists()  # one tree per salon
    check = verify_register(salon)
    assert check.ok
    assert check.tree_root == root(entry_hashes(salon)).hex()


def test_a_tree_head_that_does_not_match_the_entries_fails_verification(history, salon):
    RegisterTree.objects.filter(salon=salon).update(size=5)
    check = verify_register(salon)
    assert not check.ok
    assert "tree head (5 entries) does not match its 6 entries" in check.problem


def test_a_register_older_than_its_tree_gets_its_whole_tree_on_the_next_entry(history, salon, wording):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM consents_registertree WHERE salon_id = %s", [salon.pk])
    grant(client=history[0], purpose="marketing", channel="sms", wording=wording(salon, "marketing"),
          source="form_link")
    tree = RegisterTree.objects.get(salon=salon)
    assert tree.size == 7
    assert tree.frontier().root() == root(entry_hashes(salon))


def test_the_migration_builds_the_tree_of_an_existing_register(history, salon):
    from importlib import import_module

    from django.apps import apps

    RegisterTree.objects.all().delete()
    import_module("consents.migrations.0009_register_tree_backfill").backfill(apps, None)
    tree = RegisterTree.objects.get(salon=salon)
    assert (tree.size, tree.frontier().root()) == (6, root(entry_hashes(salon)))
