"""The form in which the loader compares unique-key values: to route rows and to keep the last row of a key."""

from __future__ import annotations

import re
import unicodedata

_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
# A North American number with its country code, whose national form the service takes as the same phone
# number (AWS: "+15551234567" matches "(555)-123-4567"): grouped by the national ten digits.
NATIONAL_NUMBER = re.compile(r"^1([0-9]{10})$")


def grouping_key(value: str) -> str:
    """
    The value rows are routed and de-duplicated by: NFKC, casefolded, letters and digits only,
    and the leading 1 of eleven digits dropped.

    Deliberately broader than any normalisation the service may apply to a key value.
    The local service trims STRING keys, lower-cases EMAIL_ADDRESS keys, casefolds and
    collapses the spaces of NAME keys, and keeps only the digits and ``+`` of
    PHONE_NUMBER keys, reading ten digits as a +1 number, as AWS's phone example does. Two values the service treats as
    one key must reach the same worker in file order, or an older row can overwrite a
    newer one. Grouping values the service keeps apart costs only some parallelism.
    """
    return NATIONAL_NUMBER.sub(r"\1", _NOT_LETTER_OR_DIGIT.sub("", unicodedata.normalize("NFKC", value).casefold()))
