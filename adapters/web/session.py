"""Signed cookies: the session (who, until when, its CSRF token) and a sign-in in flight.

A cookie is ``base64url(json).base64url(hmac-sha256)``; nothing in it is secret, and
nothing in it can be changed without the server's key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from workflows.model import PersonRef

from .config import ConsoleConfig

SESSION_COOKIE = "eb_console"
SIGNIN_COOKIE = "eb_console_signin"
COOKIE_PATH = "/console"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(secret: bytes, purpose: str, value: dict[str, Any]) -> str:
    body = _b64(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(secret: bytes, purpose: str, cookie: str | None, now: datetime) -> dict[str, Any] | None:
    """The value, if the cookie is ours, for this purpose, and not expired."""
    if not cookie or cookie.count(".") != 1:
        return None
    body, mac = cookie.split(".")
    expected = hmac.new(secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        value = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(value, dict) or float(value.get("exp", 0)) <= now.timestamp():
        return None
    return value


@dataclass(frozen=True)
class Session:
    person: PersonRef
    csrf: str
    expires: float
    # Random, and known to the server by its hash: the cookie counts only while the
    # server still holds that session (sign-out ends it there, wherever the cookie went).
    id: str


def read_session(request: web.Request, config: ConsoleConfig, now: datetime) -> Session | None:
    """The cookie's session if it is ours and unexpired; whether the server still holds it
    is the caller's question (``SignInLinks.live``)."""
    value = unsign(config.secret, "session", request.cookies.get(SESSION_COOKIE), now)
    if value is None:
        return None
    try:
        return Session(PersonRef.model_validate(value["p"]), str(value["c"]), float(value["exp"]), str(value["s"]))
    except (KeyError, ValueError):
        return None


def _set(response: web.StreamResponse, config: ConsoleConfig, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookies,
    )


def start_session(response: web.StreamResponse, config: ConsoleConfig, person: PersonRef, now: datetime) -> Session:
    """The cookie of a new session; the caller records ``Session.id`` (hashed) on the server."""
    expires = now + config.session_ttl
    session = Session(person, secrets.token_urlsafe(24), expires.timestamp(), secrets.token_urlsafe(32))
    # The Entra object id is never stored with a person; the session keeps it.
    who = {**person.model_dump(mode="json"), **({"aad": person.aad} if person.aad else {})}
    value = {"p": who, "c": session.csrf, "exp": session.expires, "s": session.id}
    _set(
        response, config, SESSION_COOKIE, sign(config.secret, "session", value), int(config.session_ttl.total_seconds())
    )
    return session


def end_session(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def remember_signin(response: web.StreamResponse, config: ConsoleConfig, value: dict[str, Any]) -> None:
    _set(response, config, SIGNIN_COOKIE, sign(config.secret, "signin", value), 600)


def recall_signin(request: web.Request, config: ConsoleConfig, now: datetime) -> dict[str, Any] | None:
    return unsign(config.secret, "signin", request.cookies.get(SIGNIN_COOKIE), now)


def forget_signin(response: web.StreamResponse) -> None:
    response.del_cookie(SIGNIN_COOKIE, path=COOKIE_PATH)


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
