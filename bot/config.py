"""The community configuration (YAML), validated with errors people can act on."""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from collections.abc import Collection, Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workflows.calendar import BusinessHours
from workflows.durations import DurationError, parse_duration
from workflows.escalate_reactions import EscalateReactions
from workflows.model import ChannelRef, Community, Expert, PersonRef, Platform, Policy, Priority, Rotation, Timers
from workflows.requests import RESERVED

from .escalate_reactions import ChannelSettings, emoji_map
from .escalate_reactions import build as build_escalate_reactions
from .own_hours import check_zone, own_hours, parse_span
from .priorities import PriorityConfig, priority_rules
from .user_groups import user_groups_of

TIMER_FIELDS = (
    "nudge_after",
    "assign_after",
    "owner_reminder_after",
    "reassign_after",
    "requester_reminder_after",
    "auto_close_after",
)
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ConfigError(Exception):
    """Configuration that cannot be used; ``str()`` is a message for the operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyConfig(_Strict):
    nudge_after: timedelta | None = None
    assign_after: timedelta | None = None
    owner_reminder_after: timedelta | None = None
    reassign_after: timedelta | None = None
    requester_reminder_after: timedelta | None = None
    auto_close_after: timedelta | None = None
    business_hours: BusinessHours | None = None
    claim_reactions: list[str] | None = None
    resolve_reactions: list[str] | None = None
    digest_at: time | None = None
    digest_when_empty: bool | None = None
    deflection_wait: timedelta | None = None
    anyone_can_claim: bool | None = None
    priority: dict[Priority, PriorityConfig] | None = None

    @field_validator(*TIMER_FIELDS, "deflection_wait", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None or value in ("off", "never", False):
            return None
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("digest_at", mode="before")
    @classmethod
    def _digest_off(cls, value: Any) -> Any:
        return None if value in ("off", "never", False) else value

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


def parse_person(text: str) -> PersonRef:
    """``slack:U0123``, ``slack:T0TEAM/U0123`` or ``teams:29:1abc`` (Teams ids contain colons)."""
    platform, sep, rest = text.strip().partition(":")
    if not sep or not rest:
        raise ValueError(f"{text!r} is not a person: write slack:U0123ABC or teams:29:1abc...")
    try:
        plat = Platform(platform.lower())
    except ValueError:
        raise ValueError(f"{text!r}: unknown platform {platform!r} (slack or teams)") from None
    if plat not in (Platform.slack, Platform.teams, Platform.console):
        raise ValueError(f"{text!r}: unknown platform {platform!r} (slack or teams)")
    tenant, slash, ident = rest.rpartition("/") if plat == Platform.slack else ("", "", rest)
    if not slash:
        tenant, ident = "", rest
    return PersonRef(platform=plat, id=ident.strip(), tenant=tenant.strip())


class Directory:
    """Communities by key, as built from one configuration file."""

    def __init__(
        self,
        communities: Sequence[Community],
        source: str = "",
        admins: Sequence[PersonRef] = (),
        escalate_reactions: EscalateReactions | None = None,
    ) -> None:
        self._by_key = {c.key: c for c in communities}
        self.source = source
        self.admins = tuple(admins)
        self.escalate_reactions = escalate_reactions or EscalateReactions()

    def get(self, key: str) -> Community | None:
        return self._by_key.get(key)

    def all(self) -> Sequence[Community]:
        return list(self._by_key.values())

    def on_platforms(self, enabled: Collection[Platform]) -> Directory:
        """The communities as a process with only ``enabled`` platforms can serve them: a
        channel, or a person's id, on any other platform is left out, so nothing is ever
        addressed there (no card, no failure notice, no digest). ``config check`` and ``serve``
        name what is left out."""
        served = copy.copy(self)  # everything else the file says (admins, ...) stays as it is
        served._by_key = {key: _reachable(c, frozenset(enabled)) for key, c in self._by_key.items()}
        return served


def _reachable(community: Community, enabled: frozenset[Platform]) -> Community:
    def on(expert: Expert | None) -> Expert | None:
        if expert is None:
            return None
        refs = tuple(ref for ref in expert.refs if ref.platform in enabled)
        return expert.model_copy(update={"refs": refs}) if refs else None

    experts = tuple(e for e in (on(expert) for expert in community.experts) if e is not None)
    return community.model_copy(
        update={
            "channels": tuple(c for c in community.channels if c.platform in enabled),
            "experts": experts,
            "lead": on(community.lead),
        }
    )


def _merge(defaults: PolicyConfig | None, own: PolicyConfig) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for source in (defaults, own):
        if source is None:
            continue
        merged.update(
            {
                k: v
                for k, v in source.model_dump(exclude_unset=True).items()
                if v is not None or k in (*TIMER_FIELDS, "deflection_wait", "digest_at")
            }
        )
    return merged


def build_directory(config: ConfigFile, source: str = "") -> Directory:
    aliases: dict[str, tuple[str, tuple[PersonRef, ...], str | None]] = {}
    # Experts and leads may be written by their name in ``people`` (any case): ``experts: [ada]``.
    names: dict[str, tuple[str, tuple[PersonRef, ...], str | None]] = {}
    # Expert key -> their own time zone and working hours, as written.
    own: dict[str, tuple[str | None, str | None]] = {}

    def refs_of(spec: PersonConfig) -> tuple[PersonRef, ...]:
        return tuple(
            parse_person(f"{plat}:{ident}").model_copy(update={"name": spec.name})
            for plat, ident in (("slack", spec.slack), ("teams", spec.teams))
            if ident
        )

    for person in config.people:
        refs = refs_of(person)
        entry = (refs[0].key, refs, person.name)
        if person.timezone or person.hours:
            own[refs[0].key] = (person.timezone, person.hours)
        for ref in refs:
            aliases[ref.key] = entry
        if person.name:
            name = person.name.strip().lower()
            if name in names:
                raise ConfigError(f"{source or 'configuration'}: people: the name {person.name!r} is used twice")
            names[name] = entry

    def expert_of(spec: str | PersonConfig, where: str) -> Expert:
        if isinstance(spec, PersonConfig):
            refs = refs_of(spec)
            known = aliases.get(refs[0].key)
            if spec.timezone or spec.hours:
                own[known[0] if known else refs[0].key] = (spec.timezone, spec.hours)
            return Expert(key=known[0] if known else refs[0].key, refs=refs, name=spec.name)
        if ":" not in spec:
            named = names.get(spec.strip().lower())
            if named is None:
                people = ", ".join(sorted(p.name for p in config.people if p.name)) or "none has a name"
                raise ConfigError(
                    f"{where}: {spec!r} is not a person: no one in people is called that ({people}); "
                    "write a name from people, or an id such as slack:U0123ABC or teams:29:1abc..."
                )
            key, refs, name = named
            return Expert(key=key, refs=refs, name=name)
        try:
            ref = parse_person(spec)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if ref.key in aliases:
            key, refs, name = aliases[ref.key]
            return Expert(key=key, refs=refs, name=name)
        return Expert(key=ref.key, refs=(ref,))

    communities = []
    seen: set[str] = set()
    default_policy = config.defaults.get("policy")
    for item in config.communities:
        where = f"{source}: community {item.key!r}" if source else f"community {item.key!r}"
        if item.key in seen:
            raise ConfigError(f"{where}: the key is used twice")
        seen.add(item.key)
        channels: list[ChannelRef] = []
        if item.slack:
            channels.append(ChannelRef(platform=Platform.slack, id=item.slack.channel, tenant=item.slack.team))
        if item.teams:
            channels.append(
                ChannelRef(
                    platform=Platform.teams, id=item.teams.channel, tenant=item.teams.tenant, team=item.teams.team
                )
            )
        if not channels:
            raise ConfigError(f"{where}: needs a slack or a teams channel to post questions in")
        experts: list[Expert] = []
        try:
            groups = user_groups_of(item.experts, item.slack.team if item.slack else "")
        except ValueError as exc:
            raise ConfigError(f"{where}, {exc}") from None
        for index, spec in enumerate(item.experts):
            if index in groups:
                continue
            expert = expert_of(spec, f"{where}, experts[{index}]")
            if all(e.key != expert.key for e in experts):
                experts.append(expert)
        lead = expert_of(item.lead, f"{where}, lead") if item.lead else None
        policy_values = _merge(default_policy, item.policy)
        timers = Timers(**{k: policy_values.pop(k, None) for k in TIMER_FIELDS})
        if (timers.assign_after or timers.reassign_after) and not experts and not groups and lead is None:
            raise ConfigError(
                f"{where}: auto-assignment is on (assign_after/reassign_after) but there are no experts and no lead "
                "to assign to; add experts, or set assign_after: off"
            )
        if timers.nudge_after and not experts and not groups:
            raise ConfigError(f"{where}: nudge_after is set but there are no experts to nudge; add experts")
        for reactions in ("claim_reactions", "resolve_reactions"):
            if reactions in policy_values:
                policy_values[reactions] = tuple(policy_values[reactions])
        priorities = priority_rules(policy_values.pop("priority", None))
        policy = Policy(timers=timers, rotation=item.rotation, priorities=priorities, **policy_values)

        def timed(expert: Expert, where: str = where, hours: BusinessHours | None = policy.business_hours) -> Expert:
            if expert.key not in own:
                return expert
            try:
                return expert.model_copy(update={"hours": own_hours(*own[expert.key], hours)})
            except ValueError as exc:
                raise ConfigError(f"{where}: {expert.label()}: {exc}") from None

        experts = [timed(e) for e in experts]
        lead = timed(lead) if lead else None
        communities.append(
            Community(
                key=item.key,
                name=item.name or item.key,
                channels=tuple(channels),
                experts=tuple(experts),
                lead=lead,
                user_groups=tuple(dict.fromkeys(groups.values())),
                policy=policy,
                open_roster=item.open_roster,
                **({"away_statuses": tuple(item.away_statuses)} if item.away_statuses is not None else {}),
            )
        )
    if not communities:
        raise ConfigError(f"{source or 'configuration'}: no communities are configured")
    admins: list[PersonRef] = []
    for index, spec in enumerate(config.admins):
        # A name from ``people`` is every id they have (Slack, Teams); an id is itself
        # (a Teams one may be the 29: chat id or the Entra object id).
        if ":" not in spec and spec.strip():
            admins.extend(expert_of(spec, f"{source or 'configuration'}: admins[{index}]").refs)
            continue
        try:
            admins.append(parse_person(spec))
        except ValueError as exc:
            raise ConfigError(f"{source or 'configuration'}: admins[{index}]: {exc}") from None
    try:
        escalating = build_escalate_reactions(config.escalate_reactions, config.channels, communities)
    except ValueError as exc:
        raise ConfigError(f"{source or 'configuration'}: {exc}") from None
    return Directory(communities, source, admins, escalating)


def _describe(error: ValidationError, raw: dict[str, Any], source: str) -> str:
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


def parse_config(text: str, source: str = "<config>") -> Directory:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with 'communities' at the top")
    try:
        config = ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, raw, source)) from None
    try:
        return build_directory(config, source)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: str | Path) -> Directory:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: configuration file not found (set ESCALATION_CONFIG, or copy escalation.example.yaml)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_config(text, str(path))
