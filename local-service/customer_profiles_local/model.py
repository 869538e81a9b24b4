"""
The wire protocol of Customer Profiles, read from botocore's shipped service model.

Routing, request parsing, validation and response serialization all come from
``customer-profiles/2020-08-15/service-2.json``: nothing here names an operation
or a field by hand, so the emulator follows the model botocore ships.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, NoReturn
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from customer_profiles_local.errors import BadRequest, NotFound, ServiceError
from customer_profiles_local.json_body import decode_json_object

SERVICE_NAME = "customer-profiles"


@cache
def service_model() -> ServiceModel:
    """The botocore model of the service, loaded once."""
    return botocore.session.get_session().get_service_model(SERVICE_NAME)


@dataclass(frozen=True)
class Route:
    """One operation's HTTP method and path template, compiled to a regex."""

    method: str
    pattern: re.Pattern[str]
    literal_segments: int
    operation: OperationModel


def _compile_route(operation: OperationModel) -> Route:
    uri = operation.http["requestUri"].split("?", 1)[0]
    regex, literals = "", 0
    for segment in uri.strip("/").split("/"):
        match = re.fullmatch(r"\{(\w+)(\+?)\}", segment)
        if match:
            name, greedy = match.groups()
            regex += f"/(?P<{name}>{'.+' if greedy else '[^/]+'})"
        else:
            regex += "/" + re.escape(segment)
            literals += 1
    return Route(operation.http["method"], re.compile(f"^{regex or '/'}$"), literals, operation)


@cache
def routes() -> tuple[Route, ...]:
    """All routes, most literal first, so ``/workflows/integrations`` beats ``/workflows/{WorkflowId}``."""
    model = service_model()
    compiled = [_compile_route(model.operation_model(name)) for name in model.operation_names]
    return tuple(sorted(compiled, key=lambda r: -r.literal_segments))


def match_route(method: str, path: str) -> tuple[OperationModel, dict[str, str]]:
    """Find the operation for ``method`` and raw ``path``; 404 if none."""
    path_matched = False
    for route in routes():
        found = route.pattern.match(path)
        if not found:
            continue
        path_matched = True
        if route.method == method:
            return route.operation, {k: unquote(v) for k, v in found.groupdict().items()}
    if path_matched:
        raise ServiceError("BadRequestException", f"Method {method} is not allowed on {path}", 405)
    raise NotFound(f"No operation matches {method} {path}")


# --------------------------------------------------------------------------- parsing


def parse_request(
    operation: OperationModel, path_params: dict[str, str], query: str, headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """Turn an HTTP request into the operation's input parameters, as boto3 named them."""
    shape = operation.input_shape
    if shape is None:
        return {}
    query_params = parse_qs(query, keep_blank_values=True)
    lowered_headers = {k.lower(): v for k, v in headers.items()}
    payload = decode_json_object(body)

    params: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in path_params:
                params[name] = path_params[wire_name]
        elif location == "querystring":
            if wire_name in query_params:
                values = query_params[wire_name]
                params[name] = _scalar_from_text(name, member, values) if member.type_name != "list" else values
        elif location == "header":
            if wire_name.lower() in lowered_headers:
                params[name] = _scalar_from_text(name, member, [lowered_headers[wire_name.lower()]])
        elif wire_name in payload:
            params[name] = _from_json(member, payload[wire_name], name)
    unknown = set(payload) - {m.serialization.get("name", n) for n, m in shape.members.items()}
    if unknown:
        raise BadRequest(f"Unknown field(s) in request body: {', '.join(sorted(unknown))}")
    return params


_NUMBERS_FROM_TEXT = {"integer": int, "long": int, "double": float}


def _scalar_from_text(name: str, member: Shape, values: list[str]) -> Any:
    """A query-string or header value as its member's type; a 400 naming the member, never the value, if it is not."""
    text = values[-1]
    if member.type_name == "boolean":
        return text.lower() == "true"
    convert = _NUMBERS_FROM_TEXT.get(member.type_name)
    if convert is None:
        return text
    try:
        return convert(text)
    except ValueError:
        pass  # raised below, outside this block: the ValueError's message repeats the value
    _fail(_child("", name, top=True), text, f"Member must be of type {member.type_name}")


def _from_json(shape: Shape, value: Any, path: str) -> Any:
    """Convert wire JSON to Python, only where the wire form differs (timestamps, blobs)."""
    if value is None:
        return None
    if shape.type_name == "structure" and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                raise BadRequest(f"Unknown field '{path}.{key}'")
            out[key] = _from_json(member, item, f"{path}.{key}")
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_from_json(shape.member, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _from_json(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if shape.type_name == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise BadRequest(f"Value at '{path}' must be a timestamp")
        try:
            if isinstance(value, str):
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise BadRequest(f"Value at '{path}' is not a valid timestamp") from None  # exc repeats the value
    return value


# ------------------------------------------------------------------------ validation

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "boolean": (bool,),
    "structure": (dict,),
    "map": (dict,),
    "list": (list,),
    "timestamp": (dt.datetime,),
    "blob": (str, bytes),
}


def validate(shape: Shape | None, params: dict[str, Any]) -> None:
    """Enforce required, type, min/max, pattern and enum; the first violation is a 400 naming the field."""
    if shape is None:
        return
    _validate(shape, params, shape.name[0].lower() + shape.name[1:] if shape.name else "input", top=True)


def _fail(path: str, value: Any, constraint: str) -> NoReturn:
    shown = value if isinstance(value, int | float) and not isinstance(value, bool) else _describe(value)
    raise BadRequest(
        f"1 validation error detected: Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
    )


def _describe(value: Any) -> str:
    # Never echo a string value back: it may be customer data (PII).
    if isinstance(value, str):
        return f"of length {len(value)}"
    if isinstance(value, list | dict):
        return f"with {len(value)} item(s)"
    return f"'{value}'"


def _validate(shape: Shape, value: Any, path: str, top: bool = False) -> None:
    expected = _PYTHON_TYPES.get(shape.type_name, (object,))
    if (isinstance(value, bool) and shape.type_name != "boolean") or not isinstance(value, expected):
        _fail(path, value, f"Member must be of type {shape.type_name}")
    meta = shape.metadata
    if shape.type_name == "structure":
        for required in meta.get("required", []):
            if value.get(required) is None:
                raise BadRequest(
                    f"1 validation error detected: Value null at '{_child(path, required, top)}' "
                    "failed to satisfy constraint: Member must not be null"
                )
        for key, item in value.items():
            if item is not None and key in shape.members:
                _validate(shape.members[key], item, _child(path, key, top))
        return
    if shape.type_name in ("string", "list", "map", "blob"):
        size = len(value)
        if "min" in meta and size < meta["min"]:
            _fail(path, value, f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            _fail(path, value, f"Member must have length less than or equal to {meta['max']}")
    if shape.type_name in ("integer", "long", "double", "float"):
        if "min" in meta and value < meta["min"]:
            _fail(path, value, f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            _fail(path, value, f"Member must have value less than or equal to {meta['max']}")
    if shape.type_name == "string":
        if shape.enum and value not in shape.enum:
            _fail(path, value, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = meta.get("pattern")
        if pattern and not _compiled(pattern).search(value):
            _fail(path, value, f"Member must satisfy regular expression pattern: {pattern}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _validate(shape.member, item, f"{path}.{index + 1}.member")
    elif shape.type_name == "map":
        for key, item in value.items():
            _validate(shape.key, key, f"{path}.key")
            _validate(shape.value, item, f"{path}.{key}")


def _child(path: str, key: str, top: bool) -> str:
    name = key[0].lower() + key[1:]
    return name if top else f"{path}.{name}"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


# --------------------------------------------------------------------- serialization


def serialize_response(operation: OperationModel, result: dict[str, Any] | None) -> bytes:
    """Render a handler's result as the operation's JSON output; unknown fields are a bug in the handler."""
    shape = operation.output_shape
    if shape is None or not result:
        return b"{}"
    return json.dumps(_to_json(shape, result, shape.name), separators=(",", ":")).encode()


def _to_json(shape: Shape, value: Any, path: str) -> Any:
    if shape.type_name == "structure":
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            member = shape.members.get(key)
            if member is None:
                raise ServiceError("InternalServerException", f"emulator bug: {path}.{key} is not modeled", 500)
            out[member.serialization.get("name", key)] = _to_json(member, item, f"{path}.{key}")
        return out
    if shape.type_name == "list":
        return [_to_json(shape.member, item, path) for item in value]
    if shape.type_name == "map":
        return {k: _to_json(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if shape.type_name == "timestamp":
        if isinstance(value, dt.datetime):
            return value.timestamp()
        return value
    return value


def error_status(code: str) -> int:
    """The HTTP status the model gives an error code (400 if it is not modeled)."""
    try:
        return service_model().shape_for(code).metadata.get("error", {}).get("httpStatusCode", 400)
    except Exception:
        return 400
