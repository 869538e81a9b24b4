"""Service errors, as the real service returns them (code, HTTP status, message)."""

from __future__ import annotations


class ServiceError(Exception):
    """An error answered to the client with the ``x-amzn-errortype`` header and a ``Message`` body."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class BadRequest(ServiceError):
    """400 ``BadRequestException``."""

    def __init__(self, message: str) -> None:
        super().__init__("BadRequestException", message, 400)


class NotFound(ServiceError):
    """404 ``ResourceNotFoundException``."""

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message, 404)


class AccessDenied(ServiceError):
    """403 ``AccessDeniedException``."""

    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message, 403)


class Throttled(ServiceError):
    """429 ``ThrottlingException``."""

    def __init__(self, message: str = "Rate exceeded") -> None:
        super().__init__("ThrottlingException", message, 429)


class InternalError(ServiceError):
    """500 ``InternalServerException``."""

    def __init__(self, message: str = "An internal error occurred") -> None:
        super().__init__("InternalServerException", message, 500)
