"""NextToken paging shared by every list operation."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from customer_profiles_local.errors import BadRequest


def paginate(items: Sequence[Any], params: dict[str, Any], default_max: int = 100) -> tuple[list[Any], str | None]:
    """Return one page of ``items`` for ``MaxResults``/``NextToken`` and the token of the next page."""
    start = _decode(params.get("NextToken"))
    size = params.get("MaxResults") or default_max
    page = list(items[start : start + size])
    following = start + size
    return page, (_encode(following) if following < len(items) else None)


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        if kind == "offset" and int(offset) >= 0:
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadRequest("The NextToken is not valid")
