"""Beat tasks for the client's rights: thin wrappers over the services."""

from celery import shared_task

from consents.checkpoints import mail_to_owners, make_checkpoint
from rights.retention import purge
from salons.models import Salon


@shared_task(ignore_result=True)
def purge_task():
    """Beat, daily: retention (old links deleted, old message texts blanked, erasure proposals listed)."""
    purge()


@shared_task(ignore_result=True)
def checkpoint_registers_task():
    """Beat, daily: sign a checkpoint of every salon's register and email it to its owners (kept outside)."""
    for salon in Salon.objects.order_by("pk"):
        mail_to_owners(make_checkpoint(salon=salon))
