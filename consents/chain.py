"""The register's hash chain: what an entry's hash covers, in one place for writer and verifier."""

import hashlib
import json
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Each ConsentEvent field the hash covers → its key in the hashed JSON object; in the order a
# values_list() query returns them. The writer, the verifier and the proof export all read this.
HASH_KEYS = {
    "prev_hash": "prev", "seq": "seq", "salon_id": "salon", "client_id": "client", "purpose": "purpose",
    "channel": "channel", "action": "action", "occurred_at": "occurred_at", "recorded_at": "recorded_at",
    "wording_id": "wording", "wording_sha256": "wording_sha256", "source": "source", "actor_id": "actor",
    "ip": "ip", "user_agent": "user_agent", "request_id": "request_id", "note": "note",
}
HASHED_FIELDS = tuple(HASH_KEYS)
_TIMESTAMPS = frozenset({"occurred_at", "recorded_at"})


def entry_hash(**fields) -> str:
    """SHA-256 over the previous entry's hash and every field of this entry (HASHED_FIELDS), canonically encoded."""
    if fields.keys() != HASH_KEYS.keys():
        raise TypeError(f"entry_hash() takes exactly these fields: {', '.join(HASHED_FIELDS)}")
    payload = {"v": CHAIN_VERSION} | {
        HASH_KEYS[name]: _timestamp(value) if name in _TIMESTAMPS else value for name, value in fields.items()
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()
