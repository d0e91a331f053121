"""Redact the personal links already stored in the outbox (core.links: the token never stays readable).

Links in messages sent before this release carried random tokens that cannot be derived again, so those
messages cannot be re-sent with their link; the links themselves keep working for the clients who got them.
"""

import re

from django.db import migrations

# /c/<token>/ (consent form), /u/<token>/ (unsubscribe), /m/<token>/ (booking management): 22 base64url characters.
TOKEN_IN_PATH = re.compile(r"/([cum])/[A-Za-z0-9_-]{22}/")
REDACTED = "*" * 22


def _redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(lambda match: f"/{match.group(1)}/{REDACTED}/", text)


def redact(apps, schema_editor):
    Message = apps.get_model("messaging", "Message")
    changed = []
    for message in Message.objects.exclude(body="").only("pk", "body", "headers").iterator(chunk_size=2000):
        body = _redact(message.body)
        headers = {name: _redact(value) if isinstance(value, str) else value
                   for name, value in (message.headers or {}).items()}
        if body != message.body or headers != (message.headers or {}):
            message.body, message.headers = body, headers
            changed.append(message)
        if len(changed) >= 2000:
            Message.objects.bulk_update(changed, ["body", "headers"])
            changed = []
    if changed:
        Message.objects.bulk_update(changed, ["body", "headers"])


class Migration(migrations.Migration):
    dependencies = [("messaging", "0005_message_link_redacted")]

    operations = [migrations.RunPython(redact, migrations.RunPython.noop, elidable=True)]
