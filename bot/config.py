"""The community configuration (YAML), validated with errors people can act on, built into the
``Directory`` of communities (the file's shape and its error messages: ``bot/config_file.py``)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.calendar import BusinessHours
from workflows.escalate_reactions import EscalateReactions
from workflows.model import ChannelRef, Community, Expert, PersonRef, Platform, Policy, Timers

from .config_file import ConfigFile, PersonConfig, PolicyConfig, describe
from .escalate_reactions import build as build_escalate_reactions
from .own_hours import own_hours
from .priorities import TIMER_FIELDS, priority_rules
from .user_groups import user_groups_of


class ConfigError(Exception):
    """Configuration that cannot be used; ``str()`` is a message for the operator."""


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
        raise ConfigError(describe(exc, raw, source)) from None
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
