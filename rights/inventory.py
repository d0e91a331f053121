"""The personal data inventory (SPEC §7): every text-like field of every client-related model, classified.

A model is client-related when it is `clients.Client` or reaches it through foreign keys. Each of its
text-like fields (char, text, email, phone, JSON, file) is declared here with one treatment:

- `erase`: personal data; `erase_client` replaces it with `erased_to` and the export includes it.
- `keep_as_proof`: kept after erasure because the salon must prove what happened (consent register
  evidence, the erasure record itself; GDPR art. 17(3)(b) and (e)). It holds no name, phone or email;
  the export includes it.
- `not_personal`: codes, choices, hashes and texts written by salonconsent itself.

`tests/test_data_inventory.py` fails when a text-like field on a client-related model is missing here,
so a new field is classified before it ships. Erasure and export read this module; they do not keep
their own lists.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.core.checks import Error
from django.db import models


class Treatment:
    ERASE = "erase"
    KEEP_AS_PROOF = "keep_as_proof"
    NOT_PERSONAL = "not_personal"


@dataclass(frozen=True)
class FieldUse:
    """How one field is treated, why, and (for `erase`) the value it is replaced with."""

    treatment: str
    why: str = ""
    erased_to: object = ""


@dataclass(frozen=True)
class ModelInventory:
    """A client-related model: the lookup from it to its client ("" for Client) and its fields."""

    client_path: str
    fields: dict[str, FieldUse] = field(default_factory=dict)

    def names(self, *treatments: str) -> list[str]:
        return [name for name, use in self.fields.items() if use.treatment in treatments]


def erase(why: str = "", to: object = "") -> FieldUse:
    return FieldUse(Treatment.ERASE, why, to)


def proof(why: str) -> FieldUse:
    return FieldUse(Treatment.KEEP_AS_PROOF, why)


def code(why: str = "a code, choice or hash, not about the person") -> FieldUse:
    return FieldUse(Treatment.NOT_PERSONAL, why)


ERASED_FIRST_NAME = "Erased"

INVENTORY: dict[str, ModelInventory] = {
    "clients.Client": ModelInventory("", {
        "first_name": erase("the client's name", to=ERASED_FIRST_NAME),  # required field: a placeholder
        "last_name": erase("the client's name"),
        "email": erase("contact; its HMAC goes to the suppression list"),
        "phone": erase("contact; its HMAC goes to the suppression list"),
        "notes": erase("free text typed by the staff"),
        "language": code("a language code"),
        "lifecycle": code(),
        "sms_suppression": code(),
        "email_suppression": code(),
    }),
    "clients.ErasureRequest": ModelInventory("client", {
        "source": code("how the request came in"),
        "status": code(),
        "reason": proof("why the data was erased: accountability for the erasure itself"),
    }),
    "clients.ContactChange": ModelInventory("client", {
        "field": code(),
        "old_value_masked": erase("part of an old phone or email"),
        "cleared_suppression": code(),
    }),
    "appointments.Appointment": ModelInventory("client", {
        # What was booked, when, and its status stay for the salon's accounting, against the pseudonymous client.
        "service": code("the salon's service name, kept for accounting"),
        "status": code(), "source": code(), "cancelled_by": code(),
    }),
    "booking.ManageLink": ModelInventory("appointment__client", {
        "token_hash": code("the hash of the link's token; the link is revoked at erasure"),
        "token_nonce": code("random; without the server's key it gives nothing away"),
    }),
    "consents.ConsentEvent": ModelInventory("client", {
        # Append-only and hash-chained: the proof of consent outlives the relationship (limitation period).
        "ip": proof("where the consent was given from"),
        "user_agent": proof("the browser the consent was given with"),
        "request_id": proof("the request that recorded the consent"),
        "note": proof("the evidence note (scan id and hash, import source, provider event)"),
        "purpose": code(), "channel": code(), "action": code(), "source": code(),
        "wording_sha256": code(), "prev_hash": code(), "entry_hash": code(),
    }),
    "consents.ConsentState": ModelInventory("client", {
        "purpose": code(), "channel": code(), "action": code(),
    }),
    "consents.ConsentLink": ModelInventory("client", {
        "kind": code(), "channel": code(),
        "token_hash": code("the hash of the link's token; the link is revoked at erasure"),
        "token_nonce": code("random; without the server's key it gives nothing away"),
    }),
    "consents.ConsentScan": ModelInventory("client", {
        # The scan shows the name and signature; the register keeps its id and SHA-256 in the evidence note.
        "file": erase("a scan of the signed form, its file name may hold the name; the file is deleted"),
        "sha256": code("the hash of the scan, kept so the register's evidence note still identifies it"),
    }),
    "messaging.Message": ModelInventory("client", {
        "recipient": erase("the phone or email the message went to"),
        "subject": erase("may greet the client by name"),
        "body": erase("may greet the client by name"),
        "headers": erase("email headers name the recipient", to={}),
        "error_text": erase("provider errors quote the number or address"),
        "kind": code(), "channel": code(), "language": code(), "reply_channel": code(), "encoding": code(),
        "status": code(), "reason": code(), "reason_text": code("the policy's decision, written by salonconsent"),
        "provider_id": code("the provider's message id"), "error_code": code(),
        "dedupe_key": code("built from ids"),
        "link_model": code("which kind of link the text carries"),
        "text_sha256": proof("matches the provider's record of what was sent; the text it hashes holds a "
                             "128-bit token, so it cannot be guessed back"),
    }),
    "credits.CreditEntry": ModelInventory("message__client", {
        "kind": code(),
        "note": code("written by salonconsent: provider codes and message ids"),
    }),
    "campaigns.CampaignRecipient": ModelInventory("client", {}),
}

TEXT_FIELD_TYPES = (models.CharField, models.TextField, models.JSONField, models.FileField)


def model_of(label: str) -> type[models.Model]:
    return apps.get_model(label)


def rows_of(label: str, client) -> models.QuerySet:
    """The rows of an inventoried model that belong to `client`."""
    path = INVENTORY[label].client_path
    return model_of(label)._default_manager.filter(**{path or "pk": client.pk})


def erased_values(label: str) -> dict[str, object]:
    """What each `erase` field of the model becomes at erasure."""
    inventory = INVENTORY[label]
    return {name: inventory.fields[name].erased_to for name in inventory.names(Treatment.ERASE)}


def personal_field_names(label: str) -> list[str]:
    """The fields an export must include: those erased and those kept as proof."""
    return INVENTORY[label].names(Treatment.ERASE, Treatment.KEEP_AS_PROOF)


def client_related_models() -> list[type[models.Model]]:
    """Every concrete model that is Client or reaches it through foreign keys."""
    client_model = apps.get_model("clients", "Client")
    related = {client_model}
    candidates = [m for m in apps.get_models() if not m._meta.abstract and not m._meta.proxy]
    grew = True
    while grew:
        grew = False
        for model in candidates:
            if model in related:
                continue
            if any(f.many_to_one or f.one_to_one for f in model._meta.fields if f.related_model in related):
                related.add(model)
                grew = True
    return sorted(related, key=lambda m: m._meta.label)


def unclassified_fields() -> list[str]:
    """'app.Model.field' for each text-like field of a client-related model that the inventory lacks."""
    missing = []
    for model in client_related_models():
        declared = INVENTORY.get(model._meta.label)
        for f in model._meta.concrete_fields:
            if isinstance(f, TEXT_FIELD_TYPES) and (declared is None or f.name not in declared.fields):
                missing.append(f"{model._meta.label}.{f.name}")
    return missing


def check_inventory(app_configs=None, **kwargs) -> list:
    """System check rights.E001: a text field of a client-related model that the inventory does not classify.

    Erasure and export read the inventory, so a field it lacks would be neither erased nor exported.
    """
    return [
        Error(f"{name} is not classified in rights/inventory.py (erase, proof or code).",
              hint="Add it to INVENTORY so that erasure and the client's export know what to do with it.",
              id="rights.E001")
        for name in unclassified_fields()
    ]
