"""The API key: ``Authorization: Bearer <KEXUE_API_KEY>`` on every /v1 and /mcp request when a key is set."""

from __future__ import annotations

import hmac
from typing import Any

from app.serve.errors import ApiError

API_KEY_ENV = "KEXUE_API_KEY"
PROTECTED = ("/v1", "/mcp")


def _protected(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PROTECTED)


def key_matches(header: str | None, key: str) -> bool:
    """Whether an Authorization header carries ``key`` as a bearer token (compared in constant time)."""
    scheme, _, token = (header or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


class BearerKey:
    """ASGI middleware: refuses /v1 and /mcp requests without the key with a 401 error object."""

    def __init__(self, app: Any, key: str):
        self.app, self.key = app, key

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _protected(scope.get("path", "")):
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not key_matches(header, self.key):
                message = ("a valid API key is required: send it as 'Authorization: Bearer <key>'" if header
                           else "an API key is required: send 'Authorization: Bearer <key>'")
                response = ApiError(401, message, code="invalid_api_key").response()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
