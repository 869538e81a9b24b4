"""The form in which the loader compares unique-key values: to route rows and to keep the last row of a key."""

from __future__ import annotations

import re
import unicodedata

_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def grouping_key(value: str) -> str:
    """
    The value rows are routed and de-duplicated by: NFKC, casefolded, letters and digits only.

    Deliberately broader than any normalisation the service may apply to a key value.
    The local service trims STRING keys, lower-cases EMAIL_ADDRESS keys, casefolds and
    collapses the spaces of NAME keys, and keeps only the digits and ``+`` of
    PHONE_NUMBER keys; AWS documents none of this. Two values the service treats as
    one key must reach the same worker in file order, or an older row can overwrite a
    newer one. Grouping values the service keeps apart costs only some parallelism.
    """
    return _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", value).casefold())
