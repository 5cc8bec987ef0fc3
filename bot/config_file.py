"""The configuration file's shape (pydantic models, strict: an unknown field is an error) and
its validation errors said in words an operator can act on (``describe``), with a "did you
mean" for a misspelt field. ``bot/config.py`` builds the directory from a validated file."""

from __future__ import annotations

import difflib
import re
import types
import typing
from datetime import time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workflows.calendar import BusinessHours
from workflows.durations import duration_or_off, is_off
from workflows.model import Priority, Rotation
from workflows.requests import RESERVED

from .escalate_reactions import ChannelSettings, emoji_map
from .own_hours import check_zone, parse_span
from .priorities import PriorityConfig, TimerSettings

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyConfig(TimerSettings):
    business_hours: BusinessHours | None = None
    claim_reactions: list[str] | None = None
    resolve_reactions: list[str] | None = None
    digest_at: time | None = None
    digest_when_empty: bool | None = None
    deflection_wait: timedelta | None = None
    anyone_can_claim: bool | None = None
    priority: dict[Priority, PriorityConfig] | None = None

    _wait = field_validator("deflection_wait", mode="before")(duration_or_off)

    @field_validator("digest_at", mode="before")
    @classmethod
    def _digest_off(cls, value: Any) -> Any:
        return None if is_off(value) else value

    @field_validator("digest_when_empty", mode="before")
    @classmethod
    def _say_or_skip(cls, value: Any) -> Any:
        # "say" and "skip" were the values before true/false; files that use them keep working.
        return {"say": True, "skip": False}.get(value, value) if isinstance(value, str) else value

    @field_validator("claim_reactions", "resolve_reactions", mode="before")
    @classmethod
    def _emoji_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [str(v).strip().strip(":") for v in value if str(v).strip()]
        return value


class SlackChannelConfig(_Strict):
    channel: str
    team: str = ""

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"[CGD][A-Z0-9]{6,}", value):
            raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD); use the id, not the #name")
        return value


class TeamsChannelConfig(_Strict):
    channel: str
    team: str | None = None
    tenant: str = ""


class PersonConfig(_Strict):
    """One person known by several ids: rotation and load count them once."""

    name: str | None = None
    slack: str | None = None
    teams: str | None = None
    timezone: str | None = None  # IANA, e.g. Asia/Tokyo
    hours: str | None = None  # their own working hours, e.g. 09:00-17:30

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_zone(value.strip()) if value else None

    @field_validator("hours")
    @classmethod
    def _span(cls, value: str | None) -> str | None:
        if value:
            parse_span(value)
        return value or None

    @model_validator(mode="after")
    def _some_id(self) -> PersonConfig:
        if not self.slack and not self.teams:
            raise ValueError("a person needs a slack or a teams id")
        return self


class CommunityConfig(_Strict):
    key: str
    name: str | None = None
    slack: SlackChannelConfig | None = None
    teams: TeamsChannelConfig | None = None
    experts: list[str | PersonConfig] = Field(default_factory=list)
    lead: str | PersonConfig | None = None
    rotation: Rotation = Rotation.round_robin
    policy: PolicyConfig = PolicyConfig()
    open_roster: bool = False
    away_statuses: list[str] | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        value = value.strip().lower()
        if not _KEY.match(value):
            raise ValueError(f"{value!r} must be lowercase letters, digits, - or _, up to 40 characters")
        if value in RESERVED:
            raise ValueError(f"{value!r} is a command word (/escalate {value}); pick another key")
        return value


class ConfigFile(_Strict):
    defaults: dict[str, PolicyConfig] = Field(default_factory=dict)
    # People who see and act on every escalation of their workspace/tenant (the web console).
    admins: list[str] = Field(default_factory=list)
    people: list[PersonConfig] = Field(default_factory=list)
    communities: list[CommunityConfig]
    # Emoji that escalate the message they are put on (bot/escalate_reactions.py).
    escalate_reactions: dict[str, str] = Field(default_factory=dict)
    channels: dict[str, ChannelSettings] = Field(default_factory=dict)

    _emoji = field_validator("escalate_reactions", mode="before")(emoji_map)

    @field_validator("defaults")
    @classmethod
    def _only_policy(cls, value: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
        unknown = set(value) - {"policy"}
        if unknown:
            raise ValueError(f"unknown key(s) under defaults: {', '.join(sorted(unknown))}; only 'policy' is allowed")
        return value


def describe(error: ValidationError, raw: dict[str, Any], source: str) -> str:
    """The validation errors of a file read from ``source``, one line each, naming the community."""
    errors = error.errors()
    suggested = {err["loc"]: _did_you_mean(list(err["loc"])) for err in errors if err["type"] == "extra_forbidden"}
    # `chanel:` is reported once, as a typo of `channel`, not also as `channel` missing.
    meant = {(*loc[:-1], name) for loc, name in suggested.items() if name}
    problems = []
    for err in errors:
        if err["type"] == "missing" and err["loc"] in meant:
            continue
        loc = list(err["loc"])
        where = []
        if len(loc) >= 2 and loc[0] == "communities" and isinstance(loc[1], int):
            try:
                key = raw["communities"][loc[1]].get("key", f"#{loc[1] + 1}")
            except (KeyError, IndexError, TypeError, AttributeError):
                key = f"#{loc[1] + 1}"
            where.append(f"community {key!r}")
            loc = loc[2:]
        field = ".".join(str(p) for p in loc if not (isinstance(p, str) and p in {"str", "PersonConfig"}))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            name = suggested[err["loc"]]
            message = "unknown field" + (f"; did you mean `{name}`?" if name else "")
        problems.append(f"{', '.join(where + ([f'field {field!r}'] if field else []))}: {message}")
    if len(problems) == 1:
        return f"{source}: {problems[0]}"
    return "\n".join([f"{source}: invalid configuration", *(f"  - {p}" for p in problems)])


def _did_you_mean(loc: list[int | str]) -> str | None:
    """The field of the model at ``loc`` spelled most like the unknown one, if any is close."""
    model: type[BaseModel] = ConfigFile
    for part in loc[:-1]:
        info = model.model_fields.get(part) if isinstance(part, str) else None
        inner = _model_in(info.annotation) if info is not None else None
        if inner is not None:
            model = inner
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return close[0] if close else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The configuration model inside ``list[X]``, ``dict[str, X]``, ``X | None``, ``str | X``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
