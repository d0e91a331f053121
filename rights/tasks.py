"""Beat tasks for the client's rights: thin wrappers over the services."""

from celery import shared_task

from rights.retention import purge


@shared_task(ignore_result=True)
def purge_task():
    """Beat, daily: retention (old links deleted, old message texts blanked, erasure proposals listed)."""
    purge()
