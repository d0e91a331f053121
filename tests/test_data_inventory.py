"""The personal data inventory (SPEC §7): every text-like field of a client-related model is classified."""

import pytest
from django.db import models

from rights.inventory import (
    INVENTORY,
    TEXT_FIELD_TYPES,
    Treatment,
    client_related_models,
    erased_values,
    model_of,
    rows_of,
    unclassified_fields,
)
from tests.factories import ClientFactory


def test_every_text_field_of_every_client_related_model_is_classified():
    assert unclassified_fields() == [], (
        "Classify these fields in rights/inventory.py (erase, keep_as_proof or not_personal): "
        + ", ".join(unclassified_fields())
    )


def test_the_walk_finds_the_models_that_reach_a_client_through_foreign_keys():
    labels = {model._meta.label for model in client_related_models()}
    assert {"clients.Client", "messaging.Message", "consents.ConsentEvent", "consents.ConsentScan",
            "appointments.Appointment", "credits.CreditEntry"} <= labels
    assert "salons.Salon" not in labels
    assert "consents.ConsentWording" not in labels


def test_a_new_unclassified_text_field_fails_the_check(monkeypatch):
    from clients.models import Client

    field = models.TextField(name="allergies", blank=True)
    field.set_attributes_from_name("allergies")
    field.model = Client
    monkeypatch.setattr(Client._meta, "concrete_fields", (*Client._meta.concrete_fields, field))

    assert "clients.Client.allergies" in unclassified_fields()


def test_the_inventory_names_only_real_fields_and_models_that_are_client_related():
    related = {model._meta.label for model in client_related_models()}
    for label, inventory in INVENTORY.items():
        assert label in related, label
        model = model_of(label)
        for name, use in inventory.fields.items():
            assert isinstance(model._meta.get_field(name), TEXT_FIELD_TYPES), f"{label}.{name}"
            assert use.treatment in (Treatment.ERASE, Treatment.KEEP_AS_PROOF, Treatment.NOT_PERSONAL)


@pytest.mark.django_db
def test_each_model_reaches_its_client_through_its_declared_path(salon):
    client = ClientFactory(salon=salon)
    for label in INVENTORY:
        assert list(rows_of(label, client)) == ([client] if label == "clients.Client" else [])


def test_the_contact_and_message_texts_are_erased_and_the_register_evidence_kept():
    assert set(erased_values("clients.Client")) == {"first_name", "last_name", "email", "phone", "notes"}
    assert {"body", "subject", "recipient", "headers"} <= set(erased_values("messaging.Message"))
    assert INVENTORY["consents.ConsentEvent"].names(Treatment.ERASE) == []


def test_the_system_check_names_a_field_the_inventory_lacks(monkeypatch):
    from rights import inventory

    assert inventory.check_inventory() == []
    monkeypatch.setattr(inventory, "unclassified_fields", lambda: ["clients.Client.nickname"])
    [error] = inventory.check_inventory()
    assert error.id == "rights.E001"
    assert "clients.Client.nickname" in error.msg
