from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer: the shared vocabulary and helpers (no models of its own, one abstract base)."""

    name = "core"
    verbose_name = "core"
