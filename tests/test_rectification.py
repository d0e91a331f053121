"""Rectification: staff correct contact data; phone and email changes are logged, masked, and lift old suppressions."""

import pytest
from django.core.exceptions import ValidationError

from clients.models import Client, ContactChange, SuppressionReason
from rights.rectification import change_contact, mask_email, mask_phone
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def giulia(salon):
    return ClientFactory(salon=salon, first_name="Giulia", last_name="Bianchi", phone="+393331234567",
                         email="giulia@example.com")


def test_a_changed_phone_is_logged_with_who_when_and_the_old_number_masked(giulia, member):
    changes = change_contact(client=giulia, by=member, phone="347 765 4321")

    giulia.refresh_from_db()
    assert giulia.phone.as_e164 == "+393477654321"  # a national number, read with the salon's region
    [change] = changes
    logged = ContactChange.objects.get()
    assert logged.pk == change.pk
    assert logged.client == giulia
    assert logged.salon == giulia.salon
    assert (logged.field, logged.old_value_masked) == ("phone", "+39 333 •••• 567")
    assert logged.changed_by == member
    assert logged.changed_at is not None
    assert "1234" not in logged.old_value_masked


def test_a_phone_a_form_already_parsed_is_accepted(giulia, member):
    from phonenumber_field.phonenumber import PhoneNumber

    change_contact(client=giulia, by=member, phone=PhoneNumber.from_string("+33612345678"))

    assert Client.objects.get(pk=giulia.pk).phone.as_e164 == "+33612345678"
    assert ContactChange.objects.get().field == "phone"


def test_a_changed_email_is_logged_masked_and_normalised(giulia, member):
    change_contact(client=giulia, by=member, email="  Giulia.B@Example.COM ")

    assert Client.objects.get(pk=giulia.pk).email == "Giulia.B@example.com"
    logged = ContactChange.objects.get()
    assert (logged.field, logged.old_value_masked) == ("email", "g•••@example.com")


def test_an_unchanged_contact_or_a_name_change_logs_nothing(giulia, member):
    changes = change_contact(client=giulia, by=member, phone="+39 333 123 4567", email="giulia@example.com",
                             first_name=" Giulia ", last_name="Verdi")

    assert changes == []
    assert not ContactChange.objects.exists()
    assert Client.objects.get(pk=giulia.pk).last_name == "Verdi"


def test_a_stop_on_the_old_number_does_not_carry_over_to_the_new_one(giulia, member):
    Client.objects.filter(pk=giulia.pk).update(sms_suppression=SuppressionReason.OPTED_OUT,
                                               email_suppression=SuppressionReason.HARD_BOUNCE)
    giulia.refresh_from_db()

    change_contact(client=giulia, by=member, phone="+393477654321")

    stored = Client.objects.get(pk=giulia.pk)
    assert stored.sms_suppression == ""
    assert giulia.sms_suppression == ""
    assert stored.email_suppression == SuppressionReason.HARD_BOUNCE  # the email did not change
    assert ContactChange.objects.get().cleared_suppression == SuppressionReason.OPTED_OUT


def test_a_bounce_on_the_old_address_does_not_carry_over_to_the_new_one(giulia, member):
    Client.objects.filter(pk=giulia.pk).update(email_suppression=SuppressionReason.HARD_BOUNCE)

    change_contact(client=giulia, by=member, email="giulia.new@example.com")

    assert Client.objects.get(pk=giulia.pk).email_suppression == ""
    assert ContactChange.objects.get().cleared_suppression == SuppressionReason.HARD_BOUNCE


def test_both_changed_log_two_entries_in_one_call(giulia, member):
    changes = change_contact(client=giulia, by=member, phone="+393477654321", email="g2@example.org")

    assert sorted(c.field for c in changes) == ["email", "phone"]
    assert ContactChange.objects.filter(client=giulia).count() == 2


def test_clearing_the_phone_is_logged(giulia, member):
    change_contact(client=giulia, by=member, phone="")

    assert not Client.objects.get(pk=giulia.pk).phone
    assert ContactChange.objects.get().old_value_masked == "+39 333 •••• 567"


def test_a_bad_phone_is_a_clear_error_and_nothing_is_saved(giulia, member):
    with pytest.raises(ValidationError) as raised:
        change_contact(client=giulia, by=member, phone="12", email="new@example.com", first_name="Anna")

    assert "phone" in raised.value.message_dict
    assert "is not a valid phone number for IT" in raised.value.message_dict["phone"][0]
    stored = Client.objects.get(pk=giulia.pk)
    assert (stored.phone.as_e164, stored.email, stored.first_name) == ("+393331234567", "giulia@example.com", "Giulia")
    assert not ContactChange.objects.exists()


def test_a_malformed_email_is_a_field_error_and_nothing_is_saved(giulia, member):
    with pytest.raises(ValidationError) as raised:
        change_contact(client=giulia, by=member, phone="+393477654321", email="not-an-address")

    assert "email" in raised.value.message_dict
    assert Client.objects.get(pk=giulia.pk).phone.as_e164 == "+393331234567"
    assert not ContactChange.objects.exists()


def test_staff_of_another_salon_cannot_change_the_client(giulia, outsider):
    with pytest.raises(ValidationError):
        change_contact(client=giulia, by=outsider, phone="+393477654321")

    assert Client.objects.get(pk=giulia.pk).phone.as_e164 == "+393331234567"
    assert not ContactChange.objects.exists()


def test_an_erased_client_cannot_be_changed(giulia, member):
    from django.utils import timezone

    Client.objects.filter(pk=giulia.pk).update(erased_at=timezone.now())

    with pytest.raises(ValidationError):
        change_contact(client=giulia, by=member, email="new@example.com")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("+393331234567", "+39 333 •••• 567"), ("+33612345678", "+33 612 •••• 678"), ("+3581234567", "+358 1 •••• 67")],
)
def test_phone_masks_keep_the_country_and_a_few_digits(raw, masked):
    from phonenumber_field.phonenumber import PhoneNumber

    assert mask_phone(PhoneNumber.from_string(raw)) == masked


def test_email_masks_keep_the_first_letter_and_the_domain():
    assert mask_email("giulia@example.com") == "g•••@example.com"
    assert mask_email("") == ""
