"""The address book costs the same handful of queries at 100 rows per page whatever the salon's size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consents.models import Source
from desk.admin.clients import ClientAdmin
from tests.factories import AppointmentFactory, ClientFactory
from tests.register_tools import grant, withdraw

pytestmark = [pytest.mark.slow, pytest.mark.django_db]  # 150 clients with consents per test

# Session and user, the user's salons, the counts for the paginator, the page of clients, their
# consent states (one prefetch), the credit balance: none of them repeated per row.
MAX_QUERIES = 12


def add_clients(salon, wording, count, start=0):
    """`count` clients; every other one granted data processing and marketing SMS, then withdrew the latter."""
    for i in range(start, start + count):
        person = ClientFactory(salon=salon, first_name=f"Bulk{i}")
        if i % 2:
            grant(client=person, purpose="data_processing", wording=wording(salon, "data_processing"),
                  source=Source.FORM_LINK)
            grant(client=person, purpose="marketing", channel="sms", wording=wording(salon, "marketing"),
                  source=Source.FORM_LINK)
            withdraw(client=person, purpose="marketing", channel="sms", source=Source.FORM_LINK)
        if i % 5 == 0:
            AppointmentFactory(client=person)


def open_changelist(client, params) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:clients_client_changelist"), params)
    assert response.status_code == 200
    return len(captured), response.text


@pytest.mark.parametrize("params", [{}, {"q": "Bulk1"}, {"lifecycle__exact": "prospect"}],
                         ids=["first page", "search", "filter"])
def test_clients_changelist_at_100_rows_takes_the_same_queries_for_30_or_150_clients(
    client, member, salon, wording, monkeypatch, django_assert_max_num_queries, params
):
    monkeypatch.setattr(ClientAdmin, "list_per_page", 100)
    client.force_login(member)
    add_clients(salon, wording, 30)
    with django_assert_max_num_queries(MAX_QUERIES):
        small, _page = open_changelist(client, params)

    add_clients(salon, wording, 120, start=30)
    with django_assert_max_num_queries(MAX_QUERIES):
        large, page = open_changelist(client, params)

    assert large == small
    assert "Marketing SMS: withdrawn" in page
    assert "Data: granted" in page
    assert "Data: never asked" in page


def test_the_second_page_of_100_costs_what_the_first_does(client, member, salon, wording, monkeypatch):
    monkeypatch.setattr(ClientAdmin, "list_per_page", 100)
    client.force_login(member)
    add_clients(salon, wording, 150)

    first, first_page = open_changelist(client, {})
    second, second_page = open_changelist(client, {"p": "2"})

    assert first == second
    assert first_page.count('name="_selected_action"') == 100
    assert second_page.count('name="_selected_action"') == 50
