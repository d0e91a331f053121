"""Marks shared by test modules."""

import pytest

# Real parallel threads, each with its own PostgreSQL connection: committed data, so the database is
# flushed and restored around each test.
RACE = [
    pytest.mark.slow,
    pytest.mark.race,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
