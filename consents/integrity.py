"""Proof that the register is intact: recompute each salon's hash chain and the current state."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from salons.models import Salon

from .chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
from .merkle import EMPTY_ROOT, Frontier
from .models import ConsentEvent, ConsentState, ConsentWording, RegisterTree, wording_digest


@dataclass(frozen=True)
class RegisterCheck:
    """The outcome of verifying one salon's register."""

    salon: Salon
    entries: int
    problem: str = ""
    bad_entry_id: int | None = None
    head_hash: str = GENESIS_HASH  # record it elsewhere: it also proves nothing was cut off the end
    tree_root: str = ""  # the register's Merkle tree head (RFC 9162) over every entry, hex

    @property
    def ok(self) -> bool:
        return not self.problem


def _wording_digests(salon: Salon) -> dict[int, tuple[str, str]]:
    """Per wording used by the salon: (stored sha256, sha256 recomputed from its words)."""
    used = ConsentEvent.objects.filter(salon=salon, wording__isnull=False).values("wording_id").distinct()
    return {
        pk: (sha, wording_digest(title, text))
        for pk, sha, title, text in ConsentWording.objects.filter(pk__in=used).values_list(
            "pk", "sha256", "title", "text"
        )
    }


def verify_register(salon: Salon, *, chunk_size: int = 2000) -> RegisterCheck:
    """Recompute the salon's chain entry by entry; report the first entry that does not hold.

    Streams the register, so memory stays flat however long it is.
    """
    wordings = _wording_digests(salon)
    latest: dict[tuple[int, str, str], tuple] = {}
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    frontier = Frontier()
    rows = (
        ConsentEvent.objects.filter(salon=salon)
        .order_by("seq")
        .values_list("pk", "entry_hash", *HASHED_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for pk, stored_hash, *values in rows:
        fields = dict(zip(HASHED_FIELDS, values, strict=True))
        seq = fields["seq"]

        def bad(problem, pk=pk, seq=seq, count=count):
            return RegisterCheck(salon, count, _("entry #%(seq)s (id %(id)s): %(problem)s")
                                 % {"seq": seq, "id": pk, "problem": problem}, pk)

        if seq != expected_seq:
            return bad(_("expected entry #%(expected)s here; entries are missing or reordered")
                       % {"expected": expected_seq})
        if fields["prev_hash"] != prev_hash:
            return bad(_("it does not follow the previous entry (broken link in the chain)"))
        if entry_hash(**fields) != stored_hash:
            return bad(_("its content no longer matches its hash: the entry was altered"))
        wording_id = fields["wording_id"]
        if wording_id is not None:
            stored_sha, actual_sha = wordings[wording_id]
            if fields["wording_sha256"] != stored_sha or stored_sha != actual_sha:
                return bad(_("the wording it refers to (id %(id)s) was altered") % {"id": wording_id})
        key = (fields["client_id"], fields["purpose"], fields["channel"])
        order = (fields["occurred_at"], seq)
        if key not in latest or order >= latest[key][0]:
            latest[key] = (order, pk, fields["action"])
        frontier.append(bytes.fromhex(stored_hash))
        prev_hash, expected_seq, count = stored_hash, seq + 1, count + 1

    states = {
        (client_id, purpose, channel): (event_id, action)
        for client_id, purpose, channel, event_id, action in ConsentState.objects.filter(salon=salon).values_list(
            "client_id", "purpose", "channel", "event_id", "action"
        )
    }
    for key, (_order, pk, action) in latest.items():
        if states.pop(key, None) != (pk, action):
            client_id, purpose, channel = key
            return RegisterCheck(
                salon, count,
                _("the current state of client %(client)s for %(purpose)s%(channel)s disagrees with the "
                  "register's latest entry (id %(id)s)")
                % {"client": client_id, "purpose": purpose, "channel": f":{channel}" if channel else "", "id": pk},
                pk,
            )
    if states:
        (client_id, purpose, channel), (event_id, _action) = next(iter(states.items()))
        return RegisterCheck(
            salon, count,
            _("a current state for client %(client)s (%(purpose)s) has no entry in the register")
            % {"client": client_id, "purpose": purpose},
            event_id,
        )
    tree = RegisterTree.objects.filter(salon=salon).first()
    kept = (tree.size, tree.frontier().root()) if tree is not None else (0, EMPTY_ROOT)
    if kept != (count, frontier.root()):
        return RegisterCheck(
            salon, count,
            _("the register's tree head (%(kept)s entries) does not match its %(count)s entries")
            % {"kept": kept[0], "count": count},
        )
    return RegisterCheck(salon, count, head_hash=prev_hash, tree_root=frontier.root().hex())
