"""The booking page's details-and-consent form: bounded fields, a honeypot, and the consent boxes unticked."""

import secrets

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from consents.forms import BOXES, ConsentChoicesForm, box_name
from core.contacts import parse_phone
from outreach.online_booking import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PHONE_MAX_LENGTH

FORM_SALT = "booking.form"
FORM_MAX_AGE = 2 * 60 * 60  # a page left open longer must be reloaded (fresh slots, fresh wording)
HONEYPOT = "website"


class BookingForm(ConsentChoicesForm):
    """Who books (name, phone, email, language) and which optional consents they give now.

    The boxes come from the consent form and are never pre-ticked here: nothing about an existing
    client is shown. `form_token` is a signed, time-limited stamp of the salon the page was made for:
    the page is embeddable in other sites, where browsers drop our cookies, so it stands in for the
    CSRF cookie (the view also checks the Origin header).
    """

    first_name = forms.CharField(label=_("First name"), max_length=NAME_MAX_LENGTH,
                                 error_messages={"required": _("Please enter your first name.")},
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name"), max_length=NAME_MAX_LENGTH,
                                error_messages={"required": _("Please enter your last name.")},
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    phone = forms.CharField(label=_("Mobile phone"), max_length=PHONE_MAX_LENGTH,
                            error_messages={"required": _("Please enter your phone number.")},
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}))
    email = forms.CharField(label=_("Email (optional)"), max_length=EMAIL_MAX_LENGTH, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email",
                                                          "type": "email"}))
    language = forms.ChoiceField(label=_("Language for your messages"), choices=settings.LANGUAGES)
    form_token = forms.CharField(widget=forms.HiddenInput)
    # Humans never see or fill this field; simple bots fill every field they find.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    field_order = ["first_name", "last_name", "phone", "email", "language"]

    def __init__(self, *args, salon, wordings, language: str, **kwargs):
        super().__init__(*args, salon=salon, wordings=wordings, current={}, **kwargs)
        self.fields["language"].initial = language
        # A fresh random stamp per page: the view lets each stamp book once (a double tap books once).
        self.fields["form_token"].initial = signing.dumps({"s": salon.pk, "n": secrets.token_urlsafe(12)},
                                                          salt=FORM_SALT)

    @property
    def stamp(self) -> str:
        """The random part of a valid form token: one per page shown."""
        return self.cleaned_data["form_token"]["n"]

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        try:
            parse_phone(phone, self.salon.phone_region)  # said now, with the other fields, not in a second round
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        return phone

    def clean_form_token(self):
        try:
            stamp = signing.loads(self.cleaned_data["form_token"], salt=FORM_SALT, max_age=FORM_MAX_AGE)
        except signing.SignatureExpired:
            raise forms.ValidationError(_("This page was open for too long. Please check your choice and send it "
                                          "again.")) from None
        except signing.BadSignature:
            raise forms.ValidationError(_("The form was changed on the way. Please reload the page.")) from None
        if not isinstance(stamp, dict) or stamp.get("s") != self.salon.pk or not isinstance(stamp.get("n"), str):
            raise forms.ValidationError(_("The form was changed on the way. Please reload the page."))
        return stamp

    def clean_website(self):
        if self.cleaned_data.get(HONEYPOT):
            raise forms.ValidationError(_("Your booking could not be sent. Please try again."))
        return ""

    def ticked(self) -> list[tuple[str, str]]:
        """(purpose, channel) of every box ticked now; unticked boxes mean nothing (not a withdrawal)."""
        return [(purpose, channel) for purpose, channel in BOXES if self.cleaned_data.get(box_name(purpose, channel))]

    def details(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("first_name", "last_name", "phone", "email", "language")}

    def form_level_errors(self) -> list[str]:
        """Errors not tied to a visible field (expired page, tampering, honeypot), for the top of the page."""
        errors = list(self.non_field_errors())
        for name in ("form_token", "shown", HONEYPOT):
            errors += list(self.errors.get(name, []))
        return errors
