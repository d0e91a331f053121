"""Beat tasks for the client's rights: thin wrappers over the services."""

from celery import shared_task

from consents.checkpoints import checkpoint_due, mail_to_owners, make_checkpoint
from rights.retention import purge
from salons.models import Salon


@shared_task(ignore_result=True)
def purge_task():
    """Beat, daily: retention (old links deleted, old message texts blanked, erasure proposals listed)."""
    purge()


@shared_task(ignore_result=True)
def checkpoint_registers_task():
    """Beat, daily: sign a checkpoint of every salon's register that grew and email it to its owners."""
    for salon in Salon.objects.order_by("pk"):
        if checkpoint_due(salon=salon):
            mail_to_owners(make_checkpoint(salon=salon))
