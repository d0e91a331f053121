"""Template context for the staff admin: the salon's credit balance shown on every admin page."""

from django.urls import reverse

from desk.dashboard import credit_balances_for


def salon_credits(request):
    """`salon_credits`: the balance of each of the staff user's salons, on admin pages only.

    Read lazily (one query, the first time a template asks) and once per request; public pages,
    the login page and non-staff users get nothing and cost nothing.
    """
    if not request.path.startswith(reverse("admin:index")):
        return {}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}

    def balances():
        if not hasattr(request, "_salon_credits"):
            request._salon_credits = credit_balances_for(user)
        return request._salon_credits

    return {"salon_credits": balances}
