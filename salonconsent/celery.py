"""The Celery application: workers and beat load Django settings prefixed CELERY_."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salonconsent.settings")

app = Celery("salonconsent")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
