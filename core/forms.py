"""Form pieces shared by the staff desk and the public pages."""

from django.core.exceptions import ValidationError

from .contacts import parse_phone


class RegionalPhoneFormMixin:
    """For a ModelForm whose phone field (a CharField over a PhoneNumberField) is read with a country.

    The subclass names the field in `phone_field` and says which country in `phone_region(cleaned)`.
    """

    phone_field = "phone"

    def phone_region(self, cleaned: dict) -> str | None:
        raise NotImplementedError

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        number = getattr(self.instance, self.phone_field)
        if self.instance.pk and number and not self.is_bound:
            self.initial[self.phone_field] = number.as_international

    def clean(self):
        cleaned = super().clean()
        raw, region = cleaned.get(self.phone_field, ""), self.phone_region(cleaned)
        if raw and region:
            try:
                cleaned[self.phone_field] = parse_phone(raw, region)
            except ValidationError as error:
                self.add_error(self.phone_field, error)
        elif not raw:
            cleaned[self.phone_field] = ""
        return cleaned

    def _post_clean(self):
        # ModelForm would assign the raw string before clean() parsed it; assign the parsed value.
        if self.phone_field in self.cleaned_data:
            setattr(self.instance, self.phone_field, self.cleaned_data[self.phone_field])
        super()._post_clean()
