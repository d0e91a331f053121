from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = _("Messaging")

    def ready(self):
        from anymail.signals import tracking

        from .webhooks import on_anymail_tracking

        tracking.connect(on_anymail_tracking, dispatch_uid="salonconsent-anymail-tracking")
