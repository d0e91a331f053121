"""The register's Merkle tree head: what it costs the writer and the verifier.

Not a test: it prints figures. On PostgreSQL it appends register entries through the real writer
(`record_consent`, one choice per call) with the tree head maintained, and the same without it (the
tree step switched off), in interleaved rounds on two salons; then it verifies registers of growing
size with the tree recomputed and without it. The machine's ceiling in the same run is the writer
without the tree: the tree's cost is the ratio (aim: append within 1.5x, verification linear).

    .venv/bin/python bench/register_tree.py [--entries 20000] [--rounds 4]

Creates and drops `salonconsent_treebench` at 127.0.0.1:5432 (user postgres).
"""

import argparse
import statistics
import time

from common import django_env, fresh_project

DB_NAME = "salonconsent_treebench"
ENV = django_env(DB_NAME, PATH="/usr/bin:/bin")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20000, help="entries appended in each mode")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per mode")
    args = parser.parse_args()
    print(f"preparing {DB_NAME} …", flush=True)
    fresh_project(DB_NAME, ENV)

    from consents import integrity, services
    from consents.models import ConsentEvent
    from consents.selectors import current_wording
    from consents.services import ConsentChange, record_consent
    from salons.models import Salon
    from tests.factories import ClientFactory

    grow_tree = services._grow_tree
    salons = {"with tree": Salon.objects.create(name="Tree", slug="tree"),
              "without tree": Salon.objects.create(name="Plain", slug="plain")}
    clients = {mode: ClientFactory.create_batch(50, salon=salon) for mode, salon in salons.items()}
    wordings = {mode: current_wording(salon=salon, purpose="marketing", language="en")
                for mode, salon in salons.items()}

    per_round = max(1, args.entries // args.rounds)
    rates = {mode: [] for mode in salons}
    verifications = []
    for round_no in range(args.rounds):
        for mode in (salons if round_no % 2 == 0 else reversed(list(salons))):
            services._grow_tree = grow_tree if mode == "with tree" else (lambda salon_id, events: None)
            started = time.perf_counter()
            for i in range(per_round):
                client = clients[mode][i % 50]
                record_consent(client=client, source="form_link",
                               changes=[ConsentChange("marketing", i % 2 == 0, "sms", wordings[mode])])
            rates[mode].append(per_round / (time.perf_counter() - started))
        services._grow_tree = grow_tree
        verifications.append((ConsentEvent.objects.filter(salon=salons["with tree"]).count(),
                              _time_verify(integrity, salons["with tree"], integrity.Frontier),
                              _time_verify(integrity, salons["with tree"], _NoTree)))

    print(f"\nappending {per_round * args.rounds:,} entries per mode, {args.rounds} interleaved rounds "
          "(entries/s, median of rounds):")
    ceiling = statistics.median(rates["without tree"])
    for mode, values in rates.items():
        median = statistics.median(values)
        print(f"  {mode:13} {median:8.0f}/s   time per entry {1000 / median:6.2f} ms   "
              f"x{ceiling / median:4.2f} of the writer without the tree")

    print("\nverifying the register after each round (chain, wordings, state; with and without the tree head):")
    for size, with_tree, without in verifications:
        print(f"  {size:7,} entries: with tree {with_tree:6.2f} s   without {without:6.2f} s   "
              f"x{with_tree / without:4.2f}   {with_tree / size * 1e6:5.1f} µs per entry")


class _NoTree:
    """The verifier without the tree: appends do nothing, and the root check is skipped below."""

    def __init__(self, *args):
        self.size = 0

    def append(self, data):
        self.size += 1

    def root(self):
        return b""


def _time_verify(integrity, salon, frontier_class) -> float:
    real = integrity.Frontier
    integrity.Frontier = frontier_class
    try:
        started = time.perf_counter()
        integrity.verify_register(salon)
        return time.perf_counter() - started
    finally:
        integrity.Frontier = real


if __name__ == "__main__":
    main()
