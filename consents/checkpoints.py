"""Signed checkpoints of a salon's register: its Merkle tree head (size and root) signed with Ed25519.

A checkpoint is a small text, the same on every machine (salon, size, root, time), and its signature
by `settings.REGISTER_SIGNING_KEY`. Kept in the append-only `Checkpoint` table and handed out as JSON,
it lets the salon, a client or an auditor show later that the register still holds every entry it
covered: `check_against_register` recomputes the tree head of the first `size` entries, which must be
the signed one whatever was appended since. A truncated, rebuilt or rewritten register fails, naming
what does not match.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from salons.models import Membership, Salon

from .merkle import (
    CHECKPOINT_FORMAT,
    Frontier,
    checkpoint_signature_holds,
    checkpoint_text,
    inclusion_proof,
    root,
)
from .models import Checkpoint, ConsentEvent, RegisterTree


@cache
def _signing_key(seed_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed_b64))


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.REGISTER_SIGNING_KEY)


def public_key_b64() -> str:
    """The public key checkpoints verify with (shown on each salon's privacy notice), base64 of 32 bytes."""
    raw = signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public_b64: str) -> str:
    """A short name for a public key: the first 8 bytes of its SHA-256, hex."""
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def make_checkpoint(*, salon: Salon) -> Checkpoint:
    """Sign the salon's current tree head and keep it (append-only)."""
    with transaction.atomic():
        # The register's writer holds this lock while it appends: the head read here is a whole one.
        list(Salon.objects.select_for_update(no_key=True).filter(pk=salon.pk).values_list("pk"))
        tree = RegisterTree.objects.filter(salon=salon).first()
        frontier = tree.frontier() if tree is not None else Frontier()
        signed_at = timezone.now().replace(microsecond=0)
        fields = {"salon_id": salon.pk, "size": frontier.size, "root_hash": frontier.root().hex(),
                  "signed_at": signed_at.isoformat()}
        signature = base64.b64encode(signing_key().sign(checkpoint_text(**fields))).decode()
        return Checkpoint.objects.create(salon=salon, size=fields["size"], root_hash=fields["root_hash"],
                                         signed_at=signed_at, key_id=key_id(public_key_b64()), signature=signature)


def checkpoint_due(*, salon: Salon) -> bool:
    """Whether the register has entries no checkpoint covers yet (the daily run skips the rest: no daily
    email to owners of a salon whose register did not change)."""
    tree = RegisterTree.objects.filter(salon=salon).values_list("size", flat=True).first() or 0
    latest = Checkpoint.objects.filter(salon=salon).order_by("-signed_at", "-pk").values_list("size", flat=True)
    return tree > (latest.first() or 0)


def as_document(checkpoint: Checkpoint) -> dict:
    """The checkpoint as handed out (JSON): everything needed to verify it without the salon's database."""
    return {
        "format": CHECKPOINT_FORMAT, "salon": checkpoint.salon_id, "size": checkpoint.size,
        "root": checkpoint.root_hash, "time": checkpoint.signed_at.isoformat(), "key_id": checkpoint.key_id,
        "public_key": public_key_b64(), "signature": checkpoint.signature,
    }


@dataclass(frozen=True)
class CheckpointCheck:
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def check_against_register(document: dict) -> CheckpointCheck:
    """Whether today's register still contains every entry the checkpoint covered: its first `size` entries
    must still have the checkpoint's tree head (RFC 9162 MTH), whatever was appended since."""
    if document.get("format") != CHECKPOINT_FORMAT:
        return CheckpointCheck(f"not a {CHECKPOINT_FORMAT} document")
    if not checkpoint_signature_holds(document, public_key_b64()):
        return CheckpointCheck("its signature does not hold for this installation's key (or it was altered)")
    salon_id, size = int(document["salon"]), int(document["size"])
    leaves = [bytes.fromhex(h) for h in ConsentEvent.objects.filter(salon_id=salon_id).order_by("seq")
              .values_list("entry_hash", flat=True).iterator(chunk_size=5000)]
    if len(leaves) < size:
        return CheckpointCheck(f"the register has {len(leaves)} entries, fewer than the {size} the checkpoint "
                               "covered: entries were removed")
    if size and root(leaves[:size]).hex() != document["root"]:
        return CheckpointCheck(f"the first {size} entries no longer have the checkpoint's root: an entry up to "
                               f"#{size} was rewritten, or the register was rebuilt")
    return CheckpointCheck()


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True)


def with_proof(receipt: dict, *, salon: Salon, events: list[ConsentEvent]) -> dict:
    """The receipt with `x-proof`: a signed checkpoint covering its entries (a new one when the latest does
    not) and each entry's inclusion proof, so `python consents/merkle.py` can check it without us."""
    if not events:
        return receipt
    latest = Checkpoint.objects.filter(salon=salon).order_by("-signed_at", "-pk").first()
    if latest is None or latest.size < max(event.seq for event in events):
        latest = make_checkpoint(salon=salon)
    leaves = [bytes.fromhex(h) for h in ConsentEvent.objects.filter(salon=salon, seq__lte=latest.size)
              .order_by("seq").values_list("entry_hash", flat=True).iterator(chunk_size=5000)]
    entries = [{"entry": event.seq, "index": event.seq - 1, "hash": event.entry_hash,
                "proof": [node.hex() for node in inclusion_proof(event.seq - 1, leaves)]} for event in events]
    return {**receipt, "x-proof": {"checkpoint": as_document(latest), "entries": entries}}


def mail_to_owners(checkpoint: Checkpoint) -> int:
    """Email the checkpoint to the salon's owners, as the JSON attachment they keep outside salonconsent.

    Returns how many owners it went to (owners without an email address are skipped).
    """
    owners = sorted({email for email in Membership.objects.filter(
        salon_id=checkpoint.salon_id, role=Membership.Role.OWNER).values_list("user__email", flat=True) if email})
    if not owners:
        return 0
    salon = checkpoint.salon
    with translation.override(salon.language):
        subject = _("%(salon)s: today's checkpoint of your consent register") % {"salon": salon.name}
        body = _(
            "Attached is a signed checkpoint of %(salon)s's consent register: %(size)s entries as of %(time)s. "
            "Keep it somewhere other than salonconsent (your email is fine). Later, anyone can check that the "
            "register still contains every one of these entries with: python manage.py verify_register "
            "--checkpoint FILE."
        ) % {"salon": salon.name, "size": checkpoint.size, "time": checkpoint.signed_at.isoformat()}
    message = EmailMessage(subject=subject, body=body, to=owners)
    message.attach(f"checkpoint-{checkpoint.salon_id}-{checkpoint.size}.json", dumps(as_document(checkpoint)),
                   "application/json")
    message.send()
    return len(owners)
