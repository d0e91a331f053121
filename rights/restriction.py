"""Restriction of processing (GDPR art. 18): the data is kept, nothing at all is sent."""

from clients.models import Client


def set_restriction(*, client: Client, restricted: bool) -> None:
    """Restrict processing (GDPR art. 18: data kept, nothing sent) or lift the restriction."""
    Client.objects.filter(pk=client.pk).update(is_restricted=restricted)
    client.is_restricted = restricted
