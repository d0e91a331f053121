"""How many SMS segments a body is sent as, counted the way GSM 03.38 and the carriers split it."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Encoding(models.TextChoices):
    GSM7 = "gsm7", _("GSM-7")
    UCS2 = "ucs2", _("UCS-2")


# The GSM 03.38 default alphabet in table order, 0x00 to 0x7F; 0x1B is the escape to the extension
# table, not a character. Upper-case Ç is here, lower-case ç is not; ¤ is here, € is an extension.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each is sent as the escape septet followed by the character, so it costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_MESSAGE = {Encoding.GSM7: 160, Encoding.UCS2: 70}
# Each part of a concatenated message gives 6 of its 140 octets to the header that numbers the parts.
PER_PART = {Encoding.GSM7: 153, Encoding.UCS2: 67}


@dataclass(frozen=True)
class SegmentCount:
    """What a body costs: its encoding, its length in that encoding's units and the segments it takes."""

    encoding: str
    units: int
    segments: int
    per_segment: int


def is_gsm7(body: str) -> bool:
    """Whether every character of the body is in the GSM-7 basic or extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body)


def count_segments(body: str) -> SegmentCount:
    """Count the segments the body is sent as; an empty body, which providers refuse, counts as 0 segments."""
    if is_gsm7(body):
        encoding = Encoding.GSM7
        widths = [2 if char in GSM7_EXTENSION else 1 for char in body]
    else:
        encoding = Encoding.UCS2
        # UTF-16 needs a surrogate pair, two code units, for a character outside the Basic Multilingual Plane.
        widths = [2 if ord(char) > 0xFFFF else 1 for char in body]
    units = sum(widths)
    if units <= SINGLE_MESSAGE[encoding]:
        return SegmentCount(encoding, units, 1 if units else 0, SINGLE_MESSAGE[encoding])
    return SegmentCount(encoding, units, _parts(widths, PER_PART[encoding]), PER_PART[encoding])


def _parts(widths: list[int], capacity: int) -> int:
    """Fill parts in order, a character that does not fit whole starting the next part."""
    # Dividing units by capacity would undercount: an escape pair or a surrogate pair is never split,
    # so a part can end one unit short.
    parts, used = 1, 0
    for width in widths:
        if used + width > capacity:
            parts, used = parts + 1, 0
        used += width
    return parts
