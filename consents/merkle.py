"""The register as a Merkle tree, in the manner of Certificate Transparency (RFC 9162, section 2.1), and the
stand-alone verifier of a client's consent receipt.

Pure Python (hashlib; `cryptography` only to check a signature), no Django and no database, so an auditor
can read this one file and run it on a receipt:

    python consents/merkle.py consent-receipt.json --public-key <the salon's key, from its privacy notice>

a
leaf is an entry's hash (its 32 bytes), hashed as SHA-256(0x00 || leaf); an inner node is
SHA-256(0x01 || left || right); the tree head of the first n entries is MTH(D[n]). `Frontier` keeps
the right edge of a growing tree (at most log2(n) hashes) so an append costs O(log n) and the root is
always at hand; the proof functions produce and check RFC 9162 inclusion and consistency proofs.
"""

import hashlib
from collections.abc import Sequence

LEAF, NODE = b"\x00", b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf (an entry's 32-byte hash), with RFC 9162's leaf prefix."""
    return hashlib.sha256(LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaves' data (RFC 9162 2.1.1); recomputed in full, for checks and proofs."""
    if not leaves:
        return EMPTY_ROOT
    return _mth([leaf_hash(data) for data in leaves])


def _mth(hashes: Sequence[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]): the audit path proving leaf `index` (from 0) is in the tree of these leaves."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"no leaf {index} in a tree of {len(leaves)}")
    return _path(index, [leaf_hash(data) for data in leaves])


def _path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if m < k:
        return [*_path(m, hashes[:k]), _mth(hashes[k:])]
    return [*_path(m - k, hashes[k:]), _mth(hashes[:k])]


def verify_inclusion(*, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """Whether `proof` shows the leaf data `leaf` at `index` in the tree of `size` with `root_hash` (2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]): shows the tree of the first `old_size` leaves is a prefix of the tree of all (2.1.4.1)."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no tree of {old_size} inside a tree of {len(leaves)}")
    if old_size == len(leaves):
        return []
    return _subproof(old_size, [leaf_hash(data) for data in leaves], True)


def _subproof(m: int, hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [_mth(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], whole), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def verify_consistency(*, old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree (old_size, old_root) is a prefix of (new_size, new_root) (2.1.4.2)."""
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT  # every tree extends the empty one
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: its root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


class Frontier:
    """The right edge of a growing tree: one perfect subtree root per set bit of its size, largest first.

    Appending a leaf costs at most log2(n) hashes; `root()` folds the edge from the right. The edge is
    what a database keeps per salon to maintain the tree head without reading the register back.
    """

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()):
        if len(edge) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} subtree roots, not {len(edge)}")
        self.size, self.edge = size, list(edge)

    def append(self, data: bytes) -> None:
        """Add a leaf (an entry's 32-byte hash) on the right."""
        node, size = leaf_hash(data), self.size
        while size & 1:  # merge the equal-height subtrees this leaf completes
            node = node_hash(self.edge.pop(), node)
            size >>= 1
        self.edge.append(node)
        self.size += 1

    def root(self) -> bytes:
        """MTH of every leaf appended so far."""
        if not self.edge:
            return EMPTY_ROOT
        result = self.edge[-1]
        for left in reversed(self.edge[:-1]):
            result = node_hash(left, result)
        return result


# --- Checkpoints and receipts -----------------------------------------------------------------------------

CHECKPOINT_FORMAT = "salonconsent-checkpoint/1"


def checkpoint_text(*, salon_id: int, size: int, root_hash: str, signed_at: str) -> bytes:
    """Exactly what a checkpoint's Ed25519 signature covers, one field a line."""
    return f"{CHECKPOINT_FORMAT}\nsalon {salon_id}\nsize {size}\nroot {root_hash}\ntime {signed_at}\n".encode()


def checkpoint_signature_holds(checkpoint: dict, public_key_b64: str) -> bool:
    """Whether the checkpoint's signature is the key's over its salon, size, root and time."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        text = checkpoint_text(salon_id=int(checkpoint["salon"]), size=int(checkpoint["size"]),
                               root_hash=str(checkpoint["root"]), signed_at=str(checkpoint["time"]))
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64)).verify(
            base64.b64decode(checkpoint["signature"]), text)
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return False
    return True


def receipt_problems(receipt: dict, public_key_b64: str) -> list[str]:
    """What does not hold in a receipt's proof (empty when every listed entry is proven in the register).

    The receipt's `x-proof` carries the salon's signed checkpoint and, per register entry it lists, the
    entry's hash and its inclusion proof in the tree the checkpoint signed.
    """
    proof = receipt.get("x-proof")
    if not isinstance(proof, dict):
        return ["the receipt carries no proof (x-proof)"]
    checkpoint = proof.get("checkpoint") or {}
    if checkpoint.get("format") != CHECKPOINT_FORMAT or not checkpoint_signature_holds(checkpoint, public_key_b64):
        return ["the checkpoint's signature does not hold for this public key (or the checkpoint was altered)"]
    size, root_hash = int(checkpoint["size"]), bytes.fromhex(checkpoint["root"])
    listed = {purpose.get("x-registerEntry"): purpose.get("x-entryHash")
              for service in receipt.get("services", []) for purpose in service.get("purposes", [])}
    problems = []
    for entry in proof.get("entries", []):
        seq = entry.get("entry")
        try:
            ok = verify_inclusion(index=int(entry["index"]), size=size, leaf=bytes.fromhex(entry["hash"]),
                                  proof=[bytes.fromhex(node) for node in entry["proof"]], root_hash=root_hash)
        except (KeyError, ValueError, TypeError):
            ok = False
        if not ok:
            problems.append(f"entry #{seq}: its inclusion proof does not lead to the checkpoint's root")
        elif listed.get(seq) != entry.get("hash"):
            problems.append(f"entry #{seq}: the receipt's purposes name another hash for it")
    if not proof.get("entries"):
        problems.append("the proof names no entry")
    return problems


def main(argv=None) -> int:
    """Check a receipt file against the salon's public key; exit 0 when its every entry is proven."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Verify a salonconsent consent receipt without the salon's systems.")
    parser.add_argument("receipt", help="the receipt's JSON file (consent-receipt.json)")
    parser.add_argument("--public-key", required=True, help="the salon's public key (base64), from its privacy notice")
    args = parser.parse_args(argv)
    try:
        with open(args.receipt, encoding="utf-8") as stream:
            receipt = json.load(stream)
    except (OSError, ValueError) as error:
        print(f"{args.receipt}: not a readable receipt ({error})")
        return 2
    problems = receipt_problems(receipt, args.public_key)
    for problem in problems:
        print(f"NOT PROVEN: {problem}")
    if problems:
        return 1
    checkpoint = receipt["x-proof"]["checkpoint"]
    print(f"proven: {len(receipt['x-proof']['entries'])} entries are in salon {checkpoint['salon']}'s register of "
          f"{checkpoint['size']} entries as signed at {checkpoint['time']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
