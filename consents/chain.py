"""The register's hash chain: what an entry's hash covers, in one place for writer and verifier."""

import hashlib
import json
from datetime import UTC, datetime

GENESIS_HASH = "0" * 64
CHAIN_VERSION = 1


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    *,
    prev_hash: str,
    seq: int,
    salon_id: int,
    client_id: int,
    purpose: str,
    channel: str,
    action: str,
    occurred_at: datetime,
    recorded_at: datetime,
    wording_id: int | None,
    wording_sha256: str,
    source: str,
    actor_id: int | None,
    ip: str,
    user_agent: str,
    request_id: str,
    note: str,
) -> str:
    """SHA-256 over the previous entry's hash and every field of this entry, canonically encoded."""
    payload = {
        "v": CHAIN_VERSION,
        "prev": prev_hash,
        "seq": seq,
        "salon": salon_id,
        "client": client_id,
        "purpose": purpose,
        "channel": channel,
        "action": action,
        "occurred_at": _timestamp(occurred_at),
        "recorded_at": _timestamp(recorded_at),
        "wording": wording_id,
        "wording_sha256": wording_sha256,
        "source": source,
        "actor": actor_id,
        "ip": ip,
        "user_agent": user_agent,
        "request_id": request_id,
        "note": note,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


# The ConsentEvent fields entry_hash() reads, in the order a values_list() query returns them.
HASHED_FIELDS = (
    "prev_hash", "seq", "salon_id", "client_id", "purpose", "channel", "action", "occurred_at",
    "recorded_at", "wording_id", "wording_sha256", "source", "actor_id", "ip", "user_agent",
    "request_id", "note",
)
