"""The registry of components and commands, filled from entry points in the group ``ltx``.

Each entry point names a plugin module (torch-free by convention) holding
pluggy hook implementations. Every plugin loads inside its own failure
boundary: a plugin that fails to import or to register is recorded with its
distribution, version and error, and the rest keep working. The core's own commands
come from a built-in plugin through the same hooks (as pytest ships its own features).

A plugin is loaded only when it fits this ltx-core: its distribution's own requirement
on ltx-core (``Requires-Dist``) is checked before it is imported, and the plugin API it
declares (``LTX_PLUGIN_API`` in its entry-point module) against :data:`PLUGIN_API`. A
plugin that declares none loads as before, with a note; a hook the core does not know
is noted too, not silently ignored.

Environment:
``LTX_PLUGINS=a,b`` loads only the named plugins;
``LTX_STRICT_PLUGINS=1`` turns any plugin failure into an error.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from ltx_core._version import __version__
from ltx_core.errors import LtxError, did_you_mean
from ltx_core.registry import hookspecs
from ltx_core.registry.entry_points import ENTRY_POINT_GROUP, EntryPoint, entry_points
from ltx_core.registry.spec import KINDS, CommandSpec, ComponentSpec, Kind, TaskSpec

__all__ = [
    "API_ATTRIBUTE",
    "ENTRY_POINT_GROUP",
    "PLUGIN_API",
    "PluginFailure",
    "PluginInfo",
    "Registry",
    "add_plugin",
    "entry_points",
    "get_registry",
    "remove_plugin",
    "reset_registry",
]

#: The plugin API this ltx-core provides: a major version. Within one, the hooks, the
#: ``register`` fields and the contracts of ``LtxTask``, ``LtxDataModule``, ``HandOff`` and
#: the factories only grow (new optional fields and methods, old forms deprecated through
#: ``ltx_core.compat`` for a release); a new major version is the only way anything is
#: removed or changes meaning. See the "Compatibility" page for authors.
PLUGIN_API = 1
#: What a plugin's entry-point module sets to the plugin API it was written for.
API_ATTRIBUTE = "LTX_PLUGIN_API"

#: Plugins of ltx-core itself, loaded first and always (``LTX_PLUGINS`` does not filter
#: them): the core's commands, registered through the same hook as any plugin's.
BUILTIN_PLUGINS = {"ltx": "ltx_core.cli.builtin"}
_HOOKS: dict[str, Kind] = {
    "register_tasks": "task",
    "register_datasets": "dataset",
    "register_backbones": "backbone",
    "register_tokenizers": "tokenizer",
}
_FILLED_BY_REGISTRY = {"name", "kind", "plugin", "distribution", "version"}
# What register() takes, by kind: task specs carry the task-only fields.
_FIELDS: dict[str, set[str]] = {
    kind: set((TaskSpec if kind == "task" else ComponentSpec).__dataclass_fields__)
    - _FILLED_BY_REGISTRY
    for kind in KINDS
}
_TASK_ONLY = _FIELDS["task"] - _FIELDS["dataset"]


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, or one of its components that is not.

    ``status``: ``broken`` (the plugin's own bug: an import error, an invalid
    registration), ``incompatible`` (written for another ltx-core: not loaded) or
    ``invalid`` (one component; the rest of the plugin loaded).
    """

    plugin: str
    distribution: str
    version: str
    error: str
    detail: str = ""
    status: str = "broken"

    def to_dict(self) -> dict[str, str]:
        return {
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "error": self.error,
            "status": self.status,
        }


@dataclass(frozen=True)
class PluginInfo:
    """A plugin that loaded, with what it contributed."""

    plugin: str
    distribution: str
    version: str
    module: str
    components: tuple[str, ...]
    commands: tuple[str, ...] = ()
    #: The plugin API it declares (``None``: it declares none).
    api: int | None = None
    #: What it should know: no API declared, hooks the core does not know, ...
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "components": list(self.components),
            "commands": list(self.commands),
            "api": self.api,
            "notes": list(self.notes),
        }


# Plugins added in-process (tests, notebooks): name -> (module or object, dist, version).
_EXTRA: dict[str, tuple[Any, str, str]] = {}
_REGISTRY: Registry | None = None


def add_plugin(name: str, plugin: Any, distribution: str = "", version: str = "") -> None:
    """Register a plugin object or module without an entry point (tests, notebooks)."""
    _EXTRA[name] = (plugin, distribution or name, version)
    reset_registry()


def remove_plugin(name: str) -> None:
    """Undo :func:`add_plugin`."""
    _EXTRA.pop(name, None)
    reset_registry()


def reset_registry() -> None:
    """Forget the cached registry so the next :func:`get_registry` rediscovers plugins."""
    global _REGISTRY
    _REGISTRY = None


def get_registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry.discover()
    return _REGISTRY


def _strict() -> bool:
    return os.environ.get("LTX_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}


class Registry:
    """Every loaded component spec, by kind and name, and every plugin failure."""

    def __init__(self) -> None:
        self.plugins: list[PluginInfo] = []
        self.failures: list[PluginFailure] = []
        # kind -> bare name -> specs registered under it (more than one: a clash).
        self._by_name: dict[str, dict[str, list[ComponentSpec]]] = {k: {} for k in KINDS}
        # command name -> specs registered under it (the first one wins; see _add_commands)
        self._commands: dict[str, list[CommandSpec]] = {}

    # -- discovery -------------------------------------------------------
    @classmethod
    def discover(cls) -> Registry:
        """Load every plugin from entry points and from :func:`add_plugin`."""
        reg = cls()
        for name, module in BUILTIN_PLUGINS.items():
            reg._load_plugin(name, module, "ltx-core", __version__, loader=_importer(module))
        wanted = {p.strip() for p in os.environ.get("LTX_PLUGINS", "").split(",") if p.strip()}
        seen: set[str] = set(BUILTIN_PLUGINS)
        for ep in sorted(entry_points(), key=lambda e: e.name):
            # A plugin added in-process replaces an installed one of the same name.
            if ep.name in seen or ep.name in _EXTRA or (wanted and ep.name not in wanted):
                continue
            seen.add(ep.name)
            problem = _requirement_problem(ep)
            if problem:
                reg.failures.append(
                    PluginFailure(
                        ep.name, ep.distribution, ep.version, problem, status="incompatible"
                    )
                )
                continue
            reg._load_plugin(ep.name, ep.value, ep.distribution, ep.version, loader=ep.load)
        for name, (obj, dist_name, version) in sorted(_EXTRA.items()):
            if wanted and name not in wanted:
                continue
            reg._load_plugin(
                name,
                getattr(obj, "__name__", repr(obj)),
                dist_name,
                version,
                loader=lambda obj=obj: obj,
            )
        if _strict() and reg.failures:
            first = reg.failures[0]
            raise LtxError(
                f"Plugin '{first.plugin}' ({first.distribution} {first.version}) failed to load: "
                f"{first.error} (LTX_STRICT_PLUGINS is set)."
            )
        return reg

    def _load_plugin(
        self, name: str, module: str, dist_name: str, version: str, loader: Any
    ) -> None:
        def fail(exc: BaseException) -> None:
            error = f"{type(exc).__name__}: {exc}"
            detail = "".join(traceback.format_exception(exc))
            self.failures.append(PluginFailure(name, dist_name, version, error, detail))

        specs: list[ComponentSpec] = []
        commands: list[CommandSpec] = []
        notes: list[str] = []
        try:
            obj = loader()
            api = getattr(obj, API_ATTRIBUTE, None)
            if api is not None and api != PLUGIN_API:
                self.failures.append(
                    PluginFailure(
                        name, dist_name, version, _api_mismatch(api, dist_name or name),
                        status="incompatible",
                    )
                )  # fmt: skip
                return
            if api is None and name not in BUILTIN_PLUGINS:
                notes.append(
                    f"declares no plugin API version; loaded as written for API {PLUGIN_API} "
                    f"(set {API_ATTRIBUTE} = {PLUGIN_API} in its module '{module}')"
                )
            notes += _unknown_hooks(obj)
            pm = pluggy.PluginManager(hookspecs.PROJECT)
            pm.add_hookspecs(hookspecs)
            pm.register(obj, name=name)
            for hook_name, kind in _HOOKS.items():
                for impl in getattr(pm.hook, hook_name).get_hookimpls():
                    impl.function(register=self._collector(specs, kind, name, dist_name, version))
            for impl in pm.hook.register_commands.get_hookimpls():
                impl.function(register=_command_collector(commands, name, dist_name, version))
        except Exception as exc:  # the plugin's failure boundary
            fail(exc)
            return
        specs, commands = self._drop_repeats(specs, commands, name, dist_name, version)
        for spec in specs:
            self._by_name[spec.kind].setdefault(spec.name, []).append(spec)
        for command in commands:
            self._commands.setdefault(command.name, []).append(command)
        self.plugins.append(
            PluginInfo(
                name,
                dist_name,
                version,
                module,
                tuple(f"{s.kind}:{s.name}" for s in specs),
                tuple(c.name for c in commands),
                api if isinstance(api, int) else None,
                tuple(notes),
            )
        )

    def _drop_repeats(
        self,
        specs: list[ComponentSpec],
        commands: list[CommandSpec],
        plugin: str,
        dist_name: str,
        version: str,
    ) -> tuple[list[ComponentSpec], list[CommandSpec]]:
        """A name a plugin registers twice is an error for that component (both go, with
        a failure naming it), not for the whole plugin."""
        seen: dict[tuple[str, str], int] = {}
        for key in [(s.kind, s.name) for s in specs] + [("command", c.name) for c in commands]:
            seen[key] = seen.get(key, 0) + 1
        twice = {key for key, count in seen.items() if count > 1}
        for kind, bare in sorted(twice):
            self.failures.append(
                PluginFailure(
                    plugin, dist_name, version,
                    f"it registers the {kind} '{bare}' twice; neither is loaded",
                    status="invalid",
                )
            )  # fmt: skip
        return (
            [s for s in specs if (s.kind, s.name) not in twice],
            [c for c in commands if ("command", c.name) not in twice],
        )

    @staticmethod
    def _collector(
        specs: list[ComponentSpec], kind: Kind, plugin: str, dist_name: str, version: str
    ) -> Any:
        allowed = _FIELDS[kind]

        def register(name: str, **fields: Any) -> None:
            unknown = set(fields) - allowed
            if unknown:
                only = sorted(unknown & _TASK_ONLY)
                why = f" ({', '.join(only)}: tasks only)" if only else ""
                raise TypeError(
                    f"register() got unknown field(s) {sorted(unknown)} for {kind} '{name}'{why}"
                )
            for required in ("target", "config"):
                ref = fields.get(required, "")
                if not isinstance(ref, str) or ":" not in ref:
                    raise ValueError(
                        f"{kind} '{name}' needs {required}='package.module:attr', got {ref!r}"
                    )
            for key in ("fits", "examples"):
                if key in fields:
                    fields[key] = tuple(fields[key])
            cls = TaskSpec if kind == "task" else ComponentSpec
            specs.append(
                cls(
                    name=name,
                    kind=kind,
                    plugin=plugin,
                    distribution=dist_name,
                    version=version,
                    **fields,
                )
            )

        return register

    # -- queries ---------------------------------------------------------
    def components(self, kind: str | None = None) -> list[ComponentSpec]:
        """All specs, optionally of one kind, sorted by kind then name."""
        kinds = [kind] if kind else list(KINDS)
        out: list[ComponentSpec] = []
        for k in kinds:
            for name in sorted(self._by_name[k]):
                out.extend(sorted(self._by_name[k][name], key=lambda s: s.plugin))
        return out

    def names(self, kind: str, *, qualified: bool = True) -> list[str]:
        """Names usable for ``kind``: each unique bare name, ``plugin:name`` for clashing
        ones, and (``qualified``) ``plugin:name`` for every spec as well."""
        out: list[str] = []
        for name, specs in sorted(self._by_name[kind].items()):
            if len(specs) == 1:
                out.append(name)
            if qualified or len(specs) > 1:
                out.extend(s.qualified_name for s in specs)
        return out

    def get(self, kind: str, name: str, *, prefer_plugin: str | None = None) -> ComponentSpec:
        """Find a spec by bare or ``plugin:name``; errors name the nearest choices.

        A bare name that several plugins register is ambiguous, and refused with the
        qualified choices, unless ``prefer_plugin`` is one of them: a task's own plugin
        comes first for the components of its run (``--dataset``, ``--backbone``, its
        defaults), so another plugin installed later cannot change what they mean.
        """
        plugin, sep, bare = name.rpartition(":")
        candidates = self._by_name[kind].get(bare if sep else name, [])
        if sep:
            candidates = [s for s in candidates if s.plugin == plugin]
        if len(candidates) > 1 and prefer_plugin is not None:
            own = [s for s in candidates if s.plugin == prefer_plugin]
            candidates = own or candidates
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            both = " and ".join(f"'{s.qualified_name}'" for s in candidates)
            raise LtxError(
                f"The {kind} name '{name}' is registered by more than one plugin; use {both}."
            )
        known = self.names(kind, qualified=False)
        hint = did_you_mean(name, known)
        if not hint and known:
            hint = " Known: " + ", ".join(known[:12]) + "."
        if not known:
            hint = " No plugin registers any; try 'ltx plugins' to see what is installed."
        raise LtxError(f"Unknown {kind} '{name}'.{hint}")

    def task(self, name: str) -> TaskSpec:
        """The task spec called ``name`` (bare or ``plugin:name``)."""
        spec = self.get("task", name)
        assert isinstance(spec, TaskSpec)  # the collector builds every task as a TaskSpec
        return spec

    def find(self, name: str) -> list[ComponentSpec]:
        """Every spec of any kind answering to ``name`` (bare or qualified): all of them
        when several plugins register the name."""
        plugin, sep, bare = name.rpartition(":")
        out = []
        for kind in KINDS:
            for spec in self._by_name[kind].get(bare if sep else name, []):
                if not sep or spec.plugin == plugin:
                    out.append(spec)
        return out

    def clashes(self) -> list[list[ComponentSpec]]:
        """The component names (of one kind) that more than one plugin registers."""
        return [
            specs for k in KINDS for _, specs in sorted(self._by_name[k].items()) if len(specs) > 1
        ]

    def commands(self) -> list[CommandSpec]:
        """Every usable command, the core's first, then by plugin and name. A name two
        plugins register is kept by the first loaded (the core, else the plugin whose name
        sorts first); the others are listed by :meth:`command_clashes`."""
        return [specs[0] for specs in self._commands.values()]

    def command(self, name: str) -> CommandSpec | None:
        """The command called ``name`` (``None`` when no plugin registers it)."""
        specs = self._commands.get(name)
        return specs[0] if specs else None

    def command_clashes(self) -> list[tuple[CommandSpec, CommandSpec]]:
        """``(kept, shadowed)`` for each command a later plugin registered again."""
        return [(specs[0], other) for specs in self._commands.values() for other in specs[1:]]

    def all_names(self) -> Iterable[str]:
        for kind in KINDS:
            yield from self.names(kind)


def _importer(module: str) -> Any:
    import importlib

    return lambda: importlib.import_module(module)


def _command_collector(
    commands: list[CommandSpec], plugin: str, dist_name: str, version: str
) -> Any:
    def register(name: str, *, target: str, help: str = "") -> None:
        if not isinstance(name, str) or not name or not name.replace("-", "").isalnum():
            raise ValueError(f"a command name is one word of letters, digits and '-', not {name!r}")
        if not isinstance(target, str) or ":" not in target:
            raise ValueError(f"command '{name}' needs target='package.module:attr', got {target!r}")
        commands.append(CommandSpec(name, target, str(help), plugin, dist_name, version))

    return register


def _api_mismatch(api: Any, dist: str) -> str:
    if isinstance(api, int) and api > PLUGIN_API:
        return (
            f"written for plugin API {api}, but ltx-core {__version__} provides API "
            f"{PLUGIN_API}; upgrade ltx-core (pip install -U ltx-core)"
        )
    if isinstance(api, int):
        return (
            f"written for plugin API {api}, which ltx-core {__version__} (API {PLUGIN_API}) no "
            f"longer provides; upgrade {dist}, or pin ltx-core to a release with API {api}"
        )
    return f"{API_ATTRIBUTE} = {api!r} is not a plugin API version (a whole number, e.g. 1)"


def _requirement_problem(ep: EntryPoint) -> str:
    """Why the plugin's distribution does not accept this ltx-core ('' when it does)."""
    if not ep.requires_core:
        return ""
    from packaging.requirements import InvalidRequirement, Requirement

    for text in ep.requires_core:
        try:
            spec = Requirement(text).specifier
        except InvalidRequirement:
            continue
        if spec and not spec.contains(__version__, prereleases=True):
            return (
                f"requires ltx-core{spec} but {__version__} is installed; upgrade ltx-core, or "
                f"install a release of {ep.distribution} made for ltx-core {__version__}"
            )
    return ""


def _unknown_hooks(obj: Any) -> list[str]:
    """Hook implementations the core has no hook for: a typo or a newer core's hook."""
    known = {n for n in dir(hookspecs) if n.startswith("register_")}
    marker = f"{hookspecs.PROJECT}_impl"
    out = []
    for attr in dir(obj):
        value = getattr(obj, attr, None)
        if callable(value) and hasattr(value, marker) and attr not in known:
            hint = did_you_mean(attr, known)
            why = f"implements the hook '{attr}', which this ltx-core does not have"
            out.append(f"{why}; it is ignored.{hint}")
    return out
