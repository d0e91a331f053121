"""The SMS segment counter: GSM-7 and UCS-2 lengths, and where a long message is split into parts."""

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from messaging.segments import GSM7_BASIC, GSM7_EXTENSION, Encoding, SegmentCount, count_segments, is_gsm7

# Modest and stateless: the suite stays fast and writes no example database into the project.
segment_settings = settings(max_examples=300, deadline=None, database=None)

EMOJI = "😀"  # U+1F600, outside the BMP: a surrogate pair in UTF-16


def test_empty_body_takes_no_segments():
    assert count_segments("") == SegmentCount(Encoding.GSM7, 0, 0, 160)


def test_160_gsm_characters_fit_one_segment():
    assert count_segments("a" * 160) == SegmentCount(Encoding.GSM7, 160, 1, 160)


def test_161_gsm_characters_take_two_segments():
    assert count_segments("a" * 161) == SegmentCount(Encoding.GSM7, 161, 2, 153)


def test_306_gsm_characters_fill_two_parts_exactly():
    assert count_segments("a" * 306).segments == 2


def test_307_gsm_characters_take_three_segments():
    assert count_segments("a" * 307).segments == 3


def test_extension_characters_count_twice():
    for char in "^{}\\[~]|€\f":
        count = count_segments(char)
        assert (count.encoding, count.units) == (Encoding.GSM7, 2), repr(char)


def test_80_euro_signs_fit_one_segment_and_81_take_two():
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81) == SegmentCount(Encoding.GSM7, 162, 2, 153)


def test_escape_pair_at_the_end_of_a_single_message_fits():
    # 158 + 2 = 160 septets.
    assert count_segments("a" * 158 + "€").segments == 1


def test_escape_pair_is_never_split_across_segments():
    # 152 + 2 + 152 = 306 septets, which would divide into 2 parts of 153. But after 152 septets
    # the € has room for only its escape, so it opens part 2 (2 + 151 septets) and 1 "a" is left for part 3.
    count = count_segments("a" * 152 + "€" + "a" * 152)
    assert count == SegmentCount(Encoding.GSM7, 306, 3, 153)


def test_currency_sign_is_basic_but_euro_is_an_extension():
    assert count_segments("¤").units == 1
    assert count_segments("€").units == 2


def test_upper_case_c_cedilla_is_gsm7():
    assert count_segments("Ç").encoding == Encoding.GSM7


def test_lowercase_c_cedilla_forces_ucs2():
    assert count_segments("Ciao Fran" + "ç" + "ois").encoding == Encoding.UCS2


def test_en_dash_forces_ucs2():
    assert count_segments("10:00 – 11:00").encoding == Encoding.UCS2


@pytest.mark.parametrize(
    "char",
    [
        "ç",  # only the upper-case Ç is in the table
        "–",  # en dash
        "—",  # em dash
        "’",  # curly apostrophe, as phones type it
        "“",  # curly quote
        "`",  # 0x60 is ¿ in GSM 03.38, not the backtick
        "á",  # only à, è, é, ì, ò, ù are there among the Latin accents
        "È",  # upper-case, as in the Italian "È confermato"
        "ê",
        "\t",
    ],
)
def test_characters_that_look_like_gsm7_but_are_not_force_ucs2(char):
    assert not is_gsm7(char)
    assert count_segments("Ciao " + char).encoding == Encoding.UCS2


def test_the_basic_table_has_127_characters_besides_the_escape():
    assert len(GSM7_BASIC) == 127
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_70_ucs2_characters_fit_one_segment():
    assert count_segments("ç" * 70) == SegmentCount(Encoding.UCS2, 70, 1, 70)


def test_71_ucs2_characters_take_two_segments():
    assert count_segments("ç" * 71) == SegmentCount(Encoding.UCS2, 71, 2, 67)


def test_134_ucs2_characters_fill_two_parts_exactly():
    assert count_segments("ç" * 134).segments == 2


def test_135_ucs2_characters_take_three_segments():
    assert count_segments("ç" * 135).segments == 3


def test_extension_characters_in_a_ucs2_message_take_one_code_unit():
    # Once the message is UCS-2 there is no escape: "{" is one UTF-16 code unit.
    assert count_segments("ç{€").units == 3


def test_emoji_take_two_code_units_and_are_never_split():
    assert count_segments(EMOJI) == SegmentCount(Encoding.UCS2, 2, 1, 70)
    assert count_segments(EMOJI * 35).segments == 1
    assert count_segments(EMOJI * 36).segments == 2
    # 66 + 2 + 66 = 134 code units, which would divide into 2 parts of 67. But after 66 units the
    # emoji has room for only half its surrogate pair, so it opens part 2 (2 + 65) and 1 "b" is left for part 3.
    count = count_segments("ç" * 66 + EMOJI + "b" * 66)
    assert count == SegmentCount(Encoding.UCS2, 134, 3, 67)


def test_italian_reminder_with_link_is_gsm7_in_one_segment():
    body = (
        "Ciao Giulia, ti ricordiamo l'appuntamento di domani alle 10:30 da Studio Bellezza. "
        "Per gestire le preferenze: https://s.example/c/AbCdEfGhIjKlMnOpQrStUv"
    )
    # 83 characters up to and including the space after "Bellezza.", 27 for "Per gestire le preferenze: " and
    # 42 for the link (8 + 9 for "https://s.example", 3 for "/c/", a 22-character token): 152, all basic.
    assert count_segments(body) == SegmentCount(Encoding.GSM7, 152, 1, 160)


def test_italian_accents_are_gsm7():
    body = "Giulia, perché non provi il trattamento più richiesto? Così è già pronto: ti aspettiamo lunedì!"
    assert count_segments(body) == SegmentCount(Encoding.GSM7, len(body), 1, 160)


def test_french_with_lowercase_c_cedilla_costs_ucs2_rates():
    body = "Bonjour Françoise, votre rendez-vous de demain à 14h30 chez Studio Bellezza est confirmé. Merci !"
    # 97 characters, all in the BMP: over 70, so 2 parts of up to 67.
    assert count_segments(body) == SegmentCount(Encoding.UCS2, 97, 2, 67)


def test_french_without_lowercase_c_cedilla_stays_gsm7():
    body = "Bonjour Élodie, votre rendez-vous de demain à 14h30 chez Studio Bellezza est confirmé. Merci !"
    assert count_segments(body) == SegmentCount(Encoding.GSM7, 94, 1, 160)


def test_german_umlauts_and_sharp_s_are_gsm7():
    body = "Hallo Jürgen, Ihr Termin bei Studio Schön ist morgen um 9:00 Uhr. Viele Grüße, Ihr Salon-Team"
    assert count_segments(body) == SegmentCount(Encoding.GSM7, 93, 1, 160)


def test_german_low_and_high_quotes_force_ucs2():
    body = "Hallo Jürgen, Ihr Termin „Färben“ morgen um 9:00 Uhr ist bestätigt."
    assert is_gsm7(body.replace("„", '"').replace("“", '"'))
    assert count_segments(body) == SegmentCount(Encoding.UCS2, 67, 1, 70)


def test_finnish_a_o_and_a_ring_are_gsm7():
    body = "Hei Päivi! Muistutus: aikasi huomenna klo 14.00 kampaamo Hämärässä. Tervetuloa! Åsa ja Sören"
    assert count_segments(body) == SegmentCount(Encoding.GSM7, 92, 1, 160)


def test_emoji_message_costs_ucs2_with_two_units_per_emoji():
    body = "Buon compleanno Giulia! 🎉 Per te uno sconto del 20% su piega e colore fino a domenica 💇‍♀️"
    # 90 characters: 🎉 and 💇 are outside the BMP (2 units each), while the zero-width joiner, ♀ and the
    # variation selector that make 💇 a woman are in it (1 each): 92 code units, so 2 parts.
    assert count_segments(body) == SegmentCount(Encoding.UCS2, 92, 2, 67)


def test_carriage_return_and_line_feed_are_one_septet_each():
    assert count_segments("Ciao\r\nGiulia") == SegmentCount(Encoding.GSM7, 12, 1, 160)


gsm_basic_text = st.text(alphabet=st.sampled_from(sorted(GSM7_BASIC)), min_size=1, max_size=700)
ucs2_bmp_char = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]).filter(
    lambda char: char not in GSM7_BASIC and char not in GSM7_EXTENSION
)
# Skewed towards the interesting characters: extensions, surrogate pairs and the GSM-7/UCS-2 border.
any_char = st.one_of(
    st.sampled_from(sorted(GSM7_BASIC)),
    st.sampled_from(sorted(GSM7_EXTENSION)),
    st.sampled_from(["ç", "–", "’", EMOJI, "🎉"]),
    st.characters(exclude_categories=["Cs"]),
)
any_text = st.text(alphabet=any_char, max_size=400)


@segment_settings
@given(body=gsm_basic_text)
@example(body="a" * 160)
@example(body="a" * 161)
@example(body="a" * 306)
@example(body="a" * 307)
def test_gsm_basic_text_takes_one_segment_up_to_160_then_one_per_153(body):
    n = len(body)
    count = count_segments(body)
    assert (count.encoding, count.units) == (Encoding.GSM7, n)
    assert count.segments == (1 if n <= 160 else math.ceil(n / 153))


@segment_settings
@given(body=st.text(alphabet=ucs2_bmp_char, min_size=1, max_size=300))
@example(body="ç" * 70)
@example(body="ç" * 71)
@example(body="ç" * 134)
@example(body="ç" * 135)
def test_bmp_ucs2_text_takes_one_segment_up_to_70_then_one_per_67(body):
    n = len(body)
    count = count_segments(body)
    assert (count.encoding, count.units) == (Encoding.UCS2, n)
    assert count.segments == (1 if n <= 70 else math.ceil(n / 67))


@segment_settings
@given(body=any_text)
def test_any_nonempty_text_takes_at_least_one_segment_and_its_units_fit(body):
    count = count_segments(body)
    assert count.encoding == (Encoding.GSM7 if is_gsm7(body) else Encoding.UCS2)
    assert (count.segments >= 1) == bool(body)
    assert count.units <= count.segments * count.per_segment


@segment_settings
@given(body=any_text, char=any_char, data=st.data())
def test_adding_a_character_never_decreases_the_count(body, char, data):
    at = data.draw(st.integers(min_value=0, max_value=len(body)), label="at")
    longer = body[:at] + char + body[at:]
    assert count_segments(longer).segments >= count_segments(body).segments
