"""Request bodies as JSON objects, refused with a 400 that names no value when they are anything else."""

from __future__ import annotations

import json
from typing import Any

from customer_profiles_local.errors import BadRequest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json_object(body: bytes) -> dict[str, Any]:
    """The body's JSON object (``{}`` when empty). NaN/Infinity, bad UTF-8 and absurd nesting are 400s, not 500s."""
    if not body.strip():
        return {}
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except ValueError:
        raise BadRequest("The request body is not valid JSON") from None
    except RecursionError:
        raise BadRequest("The request body nests arrays or objects too deeply to be read") from None
    if not isinstance(payload, dict):
        raise BadRequest("The request body must be a JSON object")
    return payload
