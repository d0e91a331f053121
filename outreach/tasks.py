"""Beat and worker tasks for outreach: thin wrappers over the services."""

from celery import shared_task

from clients.services import mark_dormant
from outreach.appointments import send_reminders
from outreach.campaign_runs import run_campaign_batch

__all__ = ["mark_dormant_task", "run_campaign_batch", "send_reminders_task"]


@shared_task(ignore_result=True)
def send_reminders_task():
    """Beat, every 10 minutes: queue the reminders now due (once each, whatever the number of beat nodes)."""
    send_reminders()


@shared_task(ignore_result=True)
def mark_dormant_task():
    """Beat, daily: lifecycles from last visits."""
    mark_dormant()
