"""Text folded for searching: lower case, without accents, letters typed on any keyboard.

Door staff in Bergamo type "Jorgensen", "Nunez" and "Oberg" for Jørgensen, Núñez and Öberg;
searches compare both sides folded. Cyrillic stays Cyrillic.
"""

import unicodedata

# Letters that are no accent on a base letter, so NFKD leaves them whole.
_WHOLE_LETTERS = str.maketrans(
    {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d",
     "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d", "ı": "i"}
)  # fmt: skip


def fold(text: str) -> str:
    """``text`` lower-cased (casefold: ß is ss), without accents and with ø, æ ... spelled out."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_WHOLE_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
