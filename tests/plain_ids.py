"""Test ids without escapes: mutmut selects a mutant's tests by id, and pytest cannot find an id holding one."""

from __future__ import annotations


def plain_id(value: object) -> str | None:
    """Text in printable ASCII (other characters as U+XXXX), bytes by their length; None (pytest's id) otherwise."""
    if isinstance(value, bytes):
        return f"{len(value)}-bytes"
    if not isinstance(value, str):
        return None
    return "".join(c if c.isascii() and c.isprintable() else f"U+{ord(c):04X}" for c in value)
