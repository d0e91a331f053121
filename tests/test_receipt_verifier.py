"""A client's receipt verifies on its own: `python consents/merkle.py receipt.json --public-key KEY` (no Django,
no database) proves each entry it lists is in the salon's signed register, and fails after one changed byte."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from consents.checkpoints import public_key_b64
from consents.links import new_link
from consents.models import Checkpoint, ConsentLink
from tests.factories import ClientFactory
from tests.register_tools import grant

pytestmark = pytest.mark.django_db
VERIFIER = Path(__file__).resolve().parent.parent / "consents" / "merkle.py"


@pytest.fixture
def receipt(client, salon, wording, tmp_path):
    others = ClientFactory.create_batch(3, salon=salon)  # a register with other clients' entries around hers
    giulia = ClientFactory(salon=salon)
    for person in [*others[:2], giulia, others[2]]:
        for purpose, channel in [("data_processing", ""), ("marketing", "sms")]:
            grant(client=person, purpose=purpose, channel=channel, wording=wording(salon, purpose),
                  source="form_link")
    _link, token = new_link(client=giulia, kind=ConsentLink.Kind.PREFERENCES)
    response = client.get(reverse("consent-receipt", args=[token]))
    assert response.status_code == 200
    path = tmp_path / "consent-receipt.json"
    path.write_bytes(response.content)
    return path


def run_verifier(path, key=None):
    result = subprocess.run(
        [sys.executable, str(VERIFIER), str(path), "--public-key", key or public_key_b64()],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, cwd=path.parent,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_real_receipt_is_proven_by_the_stand_alone_verifier(receipt):
    document = json.loads(receipt.read_text())
    assert len(document["x-proof"]["entries"]) == 2
    assert document["x-proof"]["checkpoint"]["size"] == 8
    assert Checkpoint.objects.count() == 1  # made for this receipt: no checkpoint covered its entries yet
    code, output = run_verifier(receipt)
    assert code == 0, output
    assert "proven: 2 entries" in output


@pytest.mark.parametrize("change", ["entry hash", "proof", "checkpoint root", "checkpoint size", "signature"])
def test_one_changed_byte_and_the_receipt_is_not_proven(receipt, change):
    document = json.loads(receipt.read_text())
    proof = document["x-proof"]
    flip = {"0": "1", "1": "0"}
    first = proof["entries"][0]
    if change == "entry hash":
        first["hash"] = flip.get(first["hash"][0], "0") + first["hash"][1:]
    elif change == "proof":
        node = first["proof"][0]
        first["proof"][0] = flip.get(node[0], "0") + node[1:]
    elif change == "checkpoint root":
        root = proof["checkpoint"]["root"]
        proof["checkpoint"]["root"] = flip.get(root[0], "0") + root[1:]
    elif change == "checkpoint size":
        proof["checkpoint"]["size"] += 1
    else:
        signature = proof["checkpoint"]["signature"]
        proof["checkpoint"]["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    receipt.write_text(json.dumps(document))
    code, output = run_verifier(receipt)
    assert code == 1, output
    assert "NOT PROVEN" in output


def test_another_key_does_not_prove_it(receipt):
    code, output = run_verifier(receipt, key="AQ" + public_key_b64()[2:])
    assert code == 1
    assert "signature does not hold" in output


def test_the_privacy_notice_shows_the_key_receipts_are_checked_with(client, salon):
    page = client.get(reverse("privacy-notice", args=[salon.slug]) + "?lang=en").content.decode()
    assert public_key_b64() in page
    assert "Checking your receipt" in page
