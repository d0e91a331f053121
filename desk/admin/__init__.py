"""The staff admin: every ModelAdmin and custom page of the salon's desk, one module per records app.

Django's admin autodiscovery imports this package; the imports below register each module's admins.
"""

from . import appointments, booking, campaigns, clients, consents, credits, messaging, salons

__all__ = ["appointments", "booking", "campaigns", "clients", "consents", "credits", "messaging", "salons"]
