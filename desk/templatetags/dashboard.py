"""The salon dashboard on the admin index: the figures of `desk.dashboard` drawn as server-side SVG charts.

Computed only where `{% salon_dashboard %}` is rendered (the admin index), so other pages pay nothing.
Chart geometry is formatted here as plain strings so the templates never localise a coordinate
(an Italian "12,5" would break the SVG).
"""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.vocabulary import Channel
from desk.dashboard import DASHBOARD_CHANNELS, OUTCOMES, dashboards_for
from messaging.models import Message
from messaging.transitions import NOT_ARRIVED

register = template.Library()

# Bar colours carry no meaning on their own: every bar has its label and value as text.
TONES = {"good": "#2e7d32", "bad": "#c0392b", "warn": "#b9770e", "neutral": "#7b8a96", "primary": "#417690"}
OUTCOME_TONES = {
    Message.Status.SENT: "good", Message.Status.DELIVERED: "good", Message.Status.BLOCKED: "neutral",
    Message.Status.HELD_NO_CREDIT: "warn", Message.Status.FAILED: "bad", Message.Status.UNDELIVERED: "bad",
    Message.Status.EXPIRED: "bad", Message.Status.UNKNOWN: "warn",
}
CHART_WIDTH = 440
MARKETING_TITLES = {Channel.SMS: gettext_lazy("Marketing by SMS: share of clients opted in"),
                    Channel.EMAIL: gettext_lazy("Marketing by email: share of clients opted in")}


def _n(value: float) -> str:
    """A coordinate as SVG wants it: a dot decimal, at most one decimal place."""
    return f"{value:.1f}".removesuffix(".0")


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… at or above `value`, for a readable axis."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _percent_text(share) -> str:
    if share.percent is None:
        return "–"
    return _("%(percent)s%% · %(count)s of %(total)s") % {
        "percent": share.percent, "count": share.count, "total": share.total,
    }


@dataclass(frozen=True)
class Row:
    label: str
    value: float
    text: str
    tone: str = "primary"


def bar_chart(*, chart_id: str, title: str, description: str, rows: list[Row], max_value: float) -> dict:
    """A horizontal bar chart: a label, a bar on a 0–max track and the value as text, per row."""
    label_width, track_x, track_width, row_height = 150, 158, 140, 28
    bars = []
    for index, row in enumerate(rows):
        top = 4 + index * row_height
        fraction = min(max(row.value / max_value, 0), 1) if max_value else 0
        bars.append({
            "label": row.label, "text": row.text, "fill": TONES[row.tone],
            "y": _n(top), "height": "18", "width": _n(fraction * track_width),
            "baseline": _n(top + 13.5),
        })
    return {
        "id": chart_id, "title": title, "description": description, "bars": bars,
        "width": str(CHART_WIDTH), "height": _n(8 + row_height * len(rows)),
        "label_x": _n(label_width), "track_x": _n(track_x), "track_width": _n(track_width),
        "text_x": _n(track_x + track_width + 8),
    }


def column_chart(
    *, chart_id: str, title: str, description: str, columns: list[dict], max_value: float, ticks: list[tuple],
    height: int = 170, show_values: bool = False,
) -> dict:
    """A vertical bar chart; each column is {"value", "text", "label", "tooltip"}, `ticks` are (value, text)."""
    left, right, top, bottom = 44, 16, 18, 22
    plot_width, plot_height = CHART_WIDTH - left - right, height - top - bottom
    step = plot_width / max(len(columns), 1)
    bar_width = max(step * 0.7, 2)

    def y(value: float) -> float:
        fraction = min(max(value / max_value, 0), 1) if max_value else 0
        return top + plot_height * (1 - fraction)

    bars = []
    for index, column in enumerate(columns):
        x = left + index * step + (step - bar_width) / 2
        bar_top = y(column["value"])
        bars.append({
            "x": _n(x), "y": _n(bar_top), "width": _n(bar_width), "height": _n(top + plot_height - bar_top),
            "centre": _n(x + bar_width / 2), "value_y": _n(bar_top - 4),
            "text": column["text"] if show_values else "", "label": column.get("label", ""),
            "tooltip": column["tooltip"],
        })
    return {
        "id": chart_id, "title": title, "description": description, "bars": bars,
        "width": str(CHART_WIDTH), "height": str(height), "fill": TONES["primary"],
        "left": _n(left), "right": _n(CHART_WIDTH - right), "label_y": _n(height - 6), "axis_x": _n(left - 6),
        "ticks": [{"y": _n(y(value)), "text_y": _n(y(value) + 4), "text": text} for value, text in ticks],
    }


def _channel_label(channel: str) -> str:
    return str(Channel(channel).label)


def coverage_chart(dashboard, prefix: str) -> dict:
    coverage = dashboard.coverage
    rows = [Row(_("Data processing"), coverage.data_processing.percent or 0,
                _percent_text(coverage.data_processing), "good")]
    for purpose, label in (("service", _("Service updates")), ("marketing", _("Marketing"))):
        for channel in DASHBOARD_CHANNELS:
            share = coverage.opt_ins[(purpose, channel)]
            rows.append(Row(f"{label} · {_channel_label(channel)}", share.percent or 0, _percent_text(share)))
    return bar_chart(
        chart_id=f"{prefix}-coverage", title=_("Consent coverage"),
        description=_("Share of your %(clients)s clients who gave each consent: %(list)s.") % {
            "clients": coverage.clients, "list": "; ".join(f"{r.label}: {r.text}" for r in rows),
        },
        rows=rows, max_value=100,
    )


def outcomes_chart(dashboard, prefix: str) -> dict:
    rows = [
        Row(str(Message.Status(status).label) if status != Message.Status.UNKNOWN else _("Unknown (ask provider)"),
            dashboard.outcomes[status], str(dashboard.outcomes[status]), OUTCOME_TONES[status])
        for status in OUTCOMES
    ]
    return bar_chart(
        chart_id=f"{prefix}-outcomes", title=_("Messages by outcome, last 30 days"),
        description="; ".join(f"{r.label}: {r.text}" for r in rows) + ".",
        rows=rows, max_value=max([r.value for r in rows] + [1]),
    )


def credits_chart(dashboard, prefix: str) -> dict:
    days = dashboard.credits_per_day
    top = _nice_ceiling(max([used for _day, used in days] + [1]))
    ticks = [(0, "0"), (top, str(top))] + ([(top // 2, str(top // 2))] if top >= 2 else [])
    columns = []
    for index, (day, used) in enumerate(days):
        from_end = len(days) - 1 - index
        label = _("today") if from_end == 0 else formats.date_format(day, "j M") if from_end % 7 == 0 else ""
        day_text = formats.date_format(day, "D j M")
        columns.append({"value": used, "text": str(used), "label": label,
                        "tooltip": _("%(day)s: %(used)s credits") % {"day": day_text, "used": used}})
    busy = [c["tooltip"] for c in columns if c["value"]]
    return column_chart(
        chart_id=f"{prefix}-credits", title=_("Credits used per day, last 30 days"),
        description=(_("Days with credits used: %(list)s.") % {"list": "; ".join(busy)}) if busy
        else _("No credits used."),
        columns=columns, max_value=top, ticks=ticks,
    )


def marketing_charts(dashboard, prefix: str) -> list[dict]:
    charts = []
    tz = ZoneInfo(dashboard.salon.time_zone)
    for channel in DASHBOARD_CHANNELS:
        columns = []
        for index, point in enumerate(dashboard.marketing_by_week):
            share = point.shares[channel]
            day = formats.date_format(point.at.astimezone(tz).date(), "j M")
            label = _("today") if index == len(dashboard.marketing_by_week) - 1 else day
            text = "–" if share.percent is None else f"{share.percent}%"
            columns.append({"value": share.percent or 0, "text": text, "label": label,
                            "tooltip": f"{label}: {_percent_text(share)}"})
        title = MARKETING_TITLES[channel]
        charts.append(column_chart(
            chart_id=f"{prefix}-marketing-{channel}", title=title,
            description=_("At the end of each of the last %(weeks)s weeks: %(list)s.") % {
                "weeks": len(columns), "list": "; ".join(c["tooltip"] for c in columns),
            },
            columns=columns, max_value=100, ticks=[(0, "0%"), (50, "50%"), (100, "100%")],
            height=150, show_values=True,
        ))
    return charts


def _coverage_lead(coverage) -> str:
    if not coverage.clients:
        return _("No clients yet.")
    return _("%(count)s of %(total)s clients (%(percent)s%%) have given data-processing consent.") % {
        "count": coverage.data_processing.count, "total": coverage.clients, "percent": coverage.data_processing.percent,
    }


def _marketing_lead(dashboard) -> str:
    if not dashboard.coverage.clients:
        return _("No clients yet.")
    today = dashboard.marketing_by_week[-1].shares
    return _("Today %(sms)s%% of your clients accept marketing by SMS and %(email)s%% by email.") % {
        "sms": today[Channel.SMS].percent, "email": today[Channel.EMAIL].percent,
    }


def _messages_lead(outcomes) -> str:
    total = sum(outcomes.values())
    if not total:
        return _("No messages in the last 30 days.")
    not_arrived = sum(outcomes[status] for status in NOT_ARRIVED)
    return " ".join([
        ngettext("%(total)s message in the last 30 days;", "%(total)s messages in the last 30 days;", total)
        % {"total": total},
        ngettext("%(n)s did not arrive.", "%(n)s did not arrive.", not_arrived) % {"n": not_arrived},
    ])


def _credits_lead(used: int, balance) -> str:
    lead = (
        ngettext("%(used)s credit used in the last 30 days.", "%(used)s credits used in the last 30 days.", used)
        % {"used": used}
        if used else _("No credits used in the last 30 days.")
    )
    if balance is not None:
        lead += " " + _("Balance now: %(balance)s.") % {"balance": balance.balance}
    return lead


def present(dashboard, balance=None) -> dict:
    """What the dashboard template shows for one salon: headline sentences and chart geometry."""
    prefix = f"salon-{dashboard.salon.pk}"
    coverage = dashboard.coverage
    used = sum(n for _day, n in dashboard.credits_per_day)
    return {
        "salon": dashboard.salon,
        "clients": coverage.clients,
        "coverage_lead": _coverage_lead(coverage),
        "missing_data_processing": coverage.clients - coverage.data_processing.count,
        "coverage_chart": coverage_chart(dashboard, prefix),
        "marketing_lead": _marketing_lead(dashboard),
        "marketing_charts": marketing_charts(dashboard, prefix),
        "messages_total": sum(dashboard.outcomes.values()),
        "messages_lead": _messages_lead(dashboard.outcomes),
        "outcomes_chart": outcomes_chart(dashboard, prefix),
        "credits_used": used,
        "credits_lead": _credits_lead(used, balance),
        "credits_chart": credits_chart(dashboard, prefix),
    }


@register.inclusion_tag("admin/salonconsent/dashboard.html", takes_context=True)
def salon_dashboard(context):
    """The dashboard of each salon the staff user belongs to (none for a superuser without a salon)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"dashboards": []}
    # The header's balances, already read for this request by the context processor.
    read_balances = context.get("salon_credits")
    balances = {b.salon_id: b for b in read_balances()} if callable(read_balances) else {}
    return {
        "dashboards": [present(dashboard, balances.get(dashboard.salon.pk))
                       for dashboard in dashboards_for(user, now=timezone.now())]
    }
