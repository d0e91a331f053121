from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The salon's desk: the staff admin, its dashboard and the demo salon."""

    name = "desk"
    verbose_name = "Salon desk"  # no models: never shown in the admin, so not translated
