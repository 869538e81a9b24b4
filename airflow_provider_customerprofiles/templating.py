"""
Strict conversion of templated arguments, once Jinja has rendered them.

Jinja renders ``{{ params.flag }}`` to the text "False", which Python treats as true, and a
templated list to its repr. Each operator, sensor and transfer declares the type of its
templated non-string arguments in ``argument_types``; :class:`ConvertsTemplatedArguments`
converts them after rendering, right before ``execute`` (or a method resumed after deferral),
so a rendered value means what it says and a typo fails the task naming the argument.

Rules (surrounding whitespace in rendered text is ignored, so a template ending in a newline works):

- Flags: ``True``/``False``, ``1``/``0``, or the text "True", "true", "1", "False", "false", "0".
- Numbers: an ``int`` (or for float arguments a finite ``int``/``float``), or text that parses as one;
  never a bool; optional bounds.
- Lists and dicts: the object itself, or text that is its JSON or Python literal (``ast.literal_eval``,
  never ``eval``). Plain text is refused unless the argument also accepts text (a path or a URI).

Errors are :class:`ArgumentError` (a ``ValueError``) naming the argument and the class. Flags and
numbers are not customer data, so a short excerpt of a refused one is shown; text that should have
been a list or dict is described by its type only.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

TRUE_TEXT = ("True", "true", "1")
FALSE_TEXT = ("False", "false", "0")
_SHOWN_CHARACTERS = 20


class ArgumentError(ValueError):
    """A templated argument is not what its operator expects."""


# A converter takes the rendered value and a label such as "dry_run of SomeOperator".
Converter = Callable[[Any, str], Any]


def _shown(value: Any) -> str:
    """A short excerpt of a refused flag or number (never used for lists, dicts or free text)."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 3] + "..."


@dataclass(frozen=True)
class Flag:
    """A boolean argument."""

    def __call__(self, value: Any, argument: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip() in TRUE_TEXT + FALSE_TEXT:
            return value.strip() in TRUE_TEXT
        raise ArgumentError(
            f"{argument} must be true or false ({', '.join(TRUE_TEXT + FALSE_TEXT)}), not {_shown(value)}"
        )


@dataclass(frozen=True)
class Number:
    """An int or float argument, with optional inclusive (``at_least``/``at_most``) or strict bounds."""

    kind: type[int] | type[float]
    at_least: float | None = None
    greater_than: float | None = None
    at_most: float | None = None

    def __call__(self, value: Any, argument: str) -> int | float:
        number = self._parse(value)
        if number is None:
            raise ArgumentError(f"{argument} must be {self._expected()}, not {_shown(value)}")
        if (
            (self.at_least is not None and number < self.at_least)
            or (self.greater_than is not None and number <= self.greater_than)
            or (self.at_most is not None and number > self.at_most)
        ):
            raise ArgumentError(f"{argument} must be {self._expected()}, not {_shown(value)}")
        return number

    def _parse(self, value: Any) -> int | float | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            try:
                value = self.kind(value.strip())
            except ValueError:
                return None
        if self.kind is int:
            return value if isinstance(value, int) else None
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
        return None

    def _expected(self) -> str:
        words = ["an integer" if self.kind is int else "a finite number"]
        if self.at_least is not None:
            words.append(f">= {self.at_least}")
        if self.greater_than is not None:
            words.append(f"> {self.greater_than}")
        if self.at_most is not None:
            words.append(f"<= {self.at_most}")
        return " ".join(words)


@dataclass(frozen=True)
class Collection:
    """A list and/or dict argument; with ``text=True``, other text (a path, a URI) is kept as text."""

    kinds: tuple[type[list] | type[dict], ...]
    text: bool = False

    def __call__(self, value: Any, argument: str) -> Any:
        if isinstance(value, tuple) and list in self.kinds:
            return list(value)
        if isinstance(value, self.kinds):
            return value
        if isinstance(value, str):
            parsed = _literal(value)
            if isinstance(parsed, self.kinds):
                return parsed
            if self.text:
                return value
        names = " or ".join("a list" if kind is list else "a dict" for kind in self.kinds)
        extra = ", or text" if self.text else ""
        raise ArgumentError(
            f"{argument} must be {names} (or its JSON / Python literal){extra}, "
            f"not a {type(value).__name__} that is not one"
        )


def _literal(text: str) -> Any:
    """The JSON or Python literal ``text`` spells, or None."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


@dataclass(frozen=True)
class Moment:
    """A datetime argument: a datetime, or ISO 8601 text."""

    def __call__(self, value: Any, argument: str) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ArgumentError(f"{argument} must be a datetime or ISO 8601 text, not {_shown(value)}")


@dataclass(frozen=True)
class FlagOrPath:
    """boto's ``verify``: a flag, or the path of a CA bundle (any other text)."""

    def __call__(self, value: Any, argument: str) -> bool | str:
        if isinstance(value, str) and value.strip() not in TRUE_TEXT + FALSE_TEXT:
            return value
        return Flag()(value, argument)


@dataclass(frozen=True)
class OrNone:
    """``None``, or text that renders empty, means the argument was not given; the rest goes through ``converter``."""

    converter: Converter

    def __call__(self, value: Any, argument: str) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return self.converter(value, argument)


FLAG = Flag()
MAPPING = OrNone(Collection((dict,)))
VERIFY = OrNone(FlagOrPath())
AWS_ARGUMENTS: Mapping[str, Converter] = {"verify": VERIFY, "botocore_config": MAPPING}


def convert_arguments(owner: Any, converters: Mapping[str, Converter]) -> None:
    """Replace each named attribute of ``owner`` with its converted value."""
    for name, converter in converters.items():
        setattr(owner, name, converter(getattr(owner, name), f"{name} of {type(owner).__name__}"))


class ConvertsTemplatedArguments:
    """
    Mixin for operators and sensors: converts ``argument_types`` once templates are rendered.

    Airflow calls ``pre_execute`` after rendering and before ``execute`` or a method resumed
    after deferral (which renders again), for mapped tasks too.
    """

    argument_types: ClassVar[Mapping[str, Converter]] = {}

    def pre_execute(self, context: Any) -> None:
        super().pre_execute(context)  # type: ignore[misc]
        convert_arguments(self, self.argument_types)
