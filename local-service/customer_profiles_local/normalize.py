"""Canonical forms of profile attributes, so that the same value written two ways compares equal.

Used by the matching engine and by auto-merge consolidation rules. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

EMAIL_FIELDS = ("EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress")
PHONE_FIELDS = ("PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber")
ADDRESS_FIELDS = ("Address", "ShippingAddress", "MailingAddress", "BillingAddress")
PHONE_DIGITS_KEPT = 10  # national significant number; a country code in front is ignored
PHONE_MIN_DIGITS = 7

_BUSINESS_SUFFIXES = {
    "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp", "corporation",
    "co", "company", "plc", "gmbh", "ag", "sa", "sas", "bv", "nv", "pty", "srl",
}  # fmt: skip
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr", "lane": "ln",
    "court": "ct", "place": "pl", "square": "sq", "suite": "ste", "apartment": "apt", "north": "n",
    "south": "s", "east": "e", "west": "w", "highway": "hwy", "parkway": "pkwy",
}  # fmt: skip
_NON_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")
_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?|extension)\s*\d+\s*$")


def _plain(text: str) -> str:
    """Case-folded, accents removed, punctuation dropped, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_ish = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _NON_WORD.sub(" ", ascii_ish.casefold())).strip()


def email(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text if "@" in text.strip("@") else None


def phone(value: str | None) -> str | None:
    """Digits only, without extension, trunk zeros or country code: "+1 (555) 010-0199" == "555.010.0199"."""
    digits = re.sub(r"\D", "", _EXTENSION.sub("", value or "")).lstrip("0")
    return digits[-PHONE_DIGITS_KEPT:] if len(digits) >= PHONE_MIN_DIGITS else None


def name(value: str | None) -> str | None:
    return _plain(value or "") or None


def business_name(value: str | None) -> str | None:
    """Case, punctuation, a leading "the" and legal suffixes (Inc, LLC, Ltd...) do not matter."""
    words = _plain(value or "").split()
    if words and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in _BUSINESS_SUFFIXES:
        words.pop()
    return " ".join(words) or None


def address(value: Mapping[str, Any] | None) -> str | None:
    """Street line plus postal code (or city): "12 Main Street, 02139" == "12 main st 02139-1234"."""
    if not value:
        return None
    street = " ".join(_STREET_WORDS.get(w, w) for w in _plain(value.get("Address1") or "").split())
    postal = _plain(value.get("PostalCode") or "").replace(" ", "")[:5]
    place = postal or _plain(value.get("City") or "")
    return f"{street}|{place}" if street and place else None


def birth_date(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return digits if len(digits) == 8 else None


def profile_attribute(profile: Mapping[str, Any], attribute: str) -> str | None:
    """
    The normalized value of a consolidation-rule attribute: a Profile field name ("EmailAddress",
    "PhoneNumber", "FirstName", "Address", "BusinessName"...), "Address.City" style for one part of an
    address, or "Attributes.key" for a custom attribute. None when the profile has no such value.
    """
    head, _, part = attribute.partition(".")
    value = profile.get(head)
    if part:
        return (_plain(str(value.get(part) or "")) or None) if isinstance(value, Mapping) else None
    if head in EMAIL_FIELDS:
        return email(value)
    if head in PHONE_FIELDS:
        return phone(value)
    if head in ADDRESS_FIELDS:
        return address(value)
    if head == "BusinessName":
        return business_name(value)
    if head == "BirthDate":
        return birth_date(value)
    return name(value) if isinstance(value, str) else None
