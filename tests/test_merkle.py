"""The register's Merkle tree (RFC 9162): roots by hand, proofs that verify for every size and fail for any
change, the incremental frontier equal to a full recomputation, and roots equal to an independent
implementation (pymerkle, with RFC 9162's 0x00/0x01 prefixes)."""

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from consents.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

leaves_st = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_roots_computed_by_hand_for_zero_to_three_entries():
    a, b, c = b"a" * 32, b"b" * 32, b"c" * 32
    la, lb, lc = sha(b"\x00" + a), sha(b"\x00" + b), sha(b"\x00" + c)
    assert root([]) == EMPTY_ROOT == sha(b"")
    assert root([a]) == la
    assert root([a, b]) == sha(b"\x01" + la + lb)
    assert root([a, b, c]) == sha(b"\x01" + sha(b"\x01" + la + lb) + lc)


@given(leaves_st)
def test_the_frontier_keeps_the_same_root_as_a_full_recomputation(leaves):
    frontier = Frontier()
    for count, data in enumerate(leaves, start=1):
        frontier.append(data)
        assert frontier.size == count
        assert frontier.root() == root(leaves[:count])
    reloaded = Frontier(frontier.size, frontier.edge)  # as read back from the database
    reloaded.append(b"z" * 32)
    assert reloaded.root() == root([*leaves, b"z" * 32])


@given(leaves_st, st.data())
def test_an_inclusion_proof_verifies_and_fails_for_any_change(leaves, data):
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    head = root(leaves)
    proof = inclusion_proof(index, leaves)
    assert verify_inclusion(index=index, size=size, leaf=leaves[index], proof=proof, root_hash=head)
    other = bytes(b ^ 0xFF for b in leaves[index])
    assert not verify_inclusion(index=index, size=size, leaf=other, proof=proof, root_hash=head)
    assert not verify_inclusion(index=index, size=size, leaf=leaves[index], proof=proof, root_hash=sha(head))
    # The size is authenticated with its root (a signed tree head): against the head of a longer tree, no.
    longer = [*leaves, b"x" * 32]
    assert not verify_inclusion(index=index, size=size + 1, leaf=leaves[index], proof=proof, root_hash=root(longer))
    assert not verify_inclusion(index=size, size=size, leaf=leaves[index], proof=proof, root_hash=head)
    if size > 1:
        wrong_index = data.draw(st.integers(0, size - 1).filter(lambda i: leaves[i] != leaves[index]
                                                                 and i != index) if len(set(leaves)) > 1
                                else st.just(index))
        if wrong_index != index:
            assert not verify_inclusion(index=wrong_index, size=size, leaf=leaves[index], proof=proof,
                                        root_hash=head)
        tampered = [sha(proof[0]), *proof[1:]]
        assert not verify_inclusion(index=index, size=size, leaf=leaves[index], proof=tampered, root_hash=head)
        assert not verify_inclusion(index=index, size=size, leaf=leaves[index], proof=list(reversed(proof)),
                                    root_hash=head) or proof == list(reversed(proof))


@given(leaves_st, st.data())
def test_a_consistency_proof_verifies_for_every_prefix_and_fails_for_any_change(leaves, data):
    new_size, new_root = len(leaves), root(leaves)
    old_size = data.draw(st.integers(1, new_size))
    old_root = root(leaves[:old_size])
    proof = consistency_proof(old_size, leaves)
    assert verify_consistency(old_size=old_size, new_size=new_size, old_root=old_root, new_root=new_root,
                              proof=proof)
    assert not verify_consistency(old_size=old_size, new_size=new_size, old_root=sha(old_root), new_root=new_root,
                                  proof=proof)
    assert not verify_consistency(old_size=old_size, new_size=new_size, old_root=old_root, new_root=sha(new_root),
                                  proof=proof)
    if old_size < new_size:
        longer = [*leaves, b"x" * 32]
        assert not verify_consistency(old_size=old_size, new_size=new_size + 1, old_root=old_root,
                                      new_root=root(longer), proof=proof)
        assert not verify_consistency(old_size=old_size, new_size=new_size, old_root=old_root, new_root=new_root,
                                      proof=[sha(proof[0]), *proof[1:]])
        # A register rewritten before the checkpoint: the old head no longer fits.
        rewritten = [bytes(b ^ 1 for b in leaves[0]), *leaves[1:]]
        assert not verify_consistency(old_size=old_size, new_size=new_size, old_root=old_root,
                                      new_root=root(rewritten), proof=consistency_proof(old_size, rewritten))


def test_a_truncated_register_is_not_consistent_with_a_checkpoint_it_no_longer_contains():
    leaves = [sha(bytes([i])) for i in range(10)]
    checkpoint = (8, root(leaves[:8]))
    truncated = leaves[:5] + [sha(b"new")] * 4  # cut back to 5 entries, then written again
    assert not verify_consistency(old_size=checkpoint[0], new_size=len(truncated), old_root=checkpoint[1],
                                  new_root=root(truncated), proof=consistency_proof(8, truncated))


@settings(max_examples=30)
@given(leaves_st)
def test_roots_agree_with_pymerkle_in_rfc_9162_mode(leaves):
    tree = InmemoryTree(algorithm="sha256")  # security on: 0x00 leaf and 0x01 node prefixes
    for data in leaves:
        tree.append_entry(data)
    for size in range(1, len(leaves) + 1):
        assert tree.get_root(size) == root(leaves[:size])


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33])
def test_every_leaf_of_trees_of_many_sizes_has_a_proof(size):
    leaves = [sha(bytes([i])) for i in range(size)]
    head = root(leaves)
    for index in range(size):
        assert verify_inclusion(index=index, size=size, leaf=leaves[index], proof=inclusion_proof(index, leaves),
                                root_hash=head)
    for old in range(1, size + 1):
        assert verify_consistency(old_size=old, new_size=size, old_root=root(leaves[:old]), new_root=head,
                                  proof=consistency_proof(old, leaves))
