"""Beat tasks for the agenda: thin wrappers over the services."""

from celery import shared_task

from clients.services import mark_dormant

from .services import send_reminders


@shared_task(ignore_result=True)
def send_reminders_task():
    send_reminders()


@shared_task(ignore_result=True)
def mark_dormant_task():
    mark_dormant()
