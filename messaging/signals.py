"""What the outbox tells the layers above it, without knowing them.

`messages_sending` is sent inside the claim's transaction with the messages about to go to their
provider (`messages`, a list) and the claim's time (`now`); a receiver that writes does so in the
same transaction, so it holds exactly when the claim does. The consent-request cooldown
(`outreach.consent_requests.start_cooldown`) is one.
"""

from django.dispatch import Signal

messages_sending = Signal()
