"""Everything that keeps code written for ltx 0.1, and imports of modules that moved in 0.2,
working — in one place, each with a deprecation warning, all removed in ltx-core
:data:`REMOVED_IN`.

The main paths never ask which API a component was written for: the builder hands every
loaded component through one of the ``current_*`` functions here, which return it
unchanged when it is written for the current API and otherwise an adapter that speaks
the current API on its behalf.

- **Moved modules** (:data:`MOVED_MODULES`): ``import ltx_core.configs`` and the other
  old paths give the module at its new place (an alias, not a copy).
- **Data modules** (:func:`current_datamodule_class`): ``model_data_kwargs()`` becomes
  the hand-off; ``_pin()`` still answers.
- **Tokenizer and backbone factories** ``(config, info)`` (:class:`LegacyBuild`): they get
  the one merged dict they used to get — the hand-off, what the task asked of the
  backbone, what a restored checkpoint saved, ``from_checkpoint`` — and whatever the
  backbone factory writes into it is saved with the checkpoint and read back by the task.
- **Tasks** (:meth:`LegacyBuild.task_class`): ``__init__(config, *, info=...)``,
  ``self.info``, ``backbone_info()``, ``on_run_end(run_dir)`` and ``predict_inputs()``
  (the prediction API before ``predict_batch``; its ``--set`` values arrive as strings).
- **Checkpoints** of format 1 (:func:`upgrade_record`).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import types
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "MOVED_MODULES",
    "REMOVED_IN",
    "LegacyBuild",
    "current_datamodule_class",
    "current_tokenizer_factory",
    "deprecated",
    "install_module_aliases",
    "upgrade_record",
]

#: The ltx-core release that drops everything in this module.
REMOVED_IN = "0.3"

#: Old import path -> where the module lives now.
MOVED_MODULES = {
    "ltx_core.configs": "ltx_core.config.models",
    "ltx_core.hookspecs": "ltx_core.registry.hookspecs",
    "ltx_core.spec": "ltx_core.registry.spec",
    "ltx_core.testing": "ltx_core.authoring.conformance",
    "ltx_core.predicting": "ltx_core.inference.predictor",
    "ltx_core.predict_options": "ltx_core.inference.options",
    "ltx_core.resolve": "ltx_core.config.resolve",
    "ltx_core.lightning_args": "ltx_core.config.lightning_args",
    "ltx_core.build": "ltx_core.engine.build",
    "ltx_core.training": "ltx_core.engine.training",
    "ltx_core.callbacks": "ltx_core.engine.callbacks",
    "ltx_core.precision": "ltx_core.engine.precision",
    "ltx_core.flops": "ltx_core.engine.flops",
    "ltx_core.resumable": "ltx_core.sampling",
    "ltx_core.scaffold": "ltx_core.authoring.scaffold",
}


def deprecated(message: str) -> None:
    """Warn once per call site that ``message`` names a deprecated form, attributed to the
    first frame outside ltx-core and the import machinery (the user's code)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and (
        frame.f_globals.get("__name__", "").startswith("ltx_core")
        or frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(
        f"{message} (deprecated since ltx-core 0.2, removed in {REMOVED_IN}; see the "
        "migration notes in the docs).",
        DeprecationWarning,
        stacklevel=level,
    )


# -- moved modules ---------------------------------------------------------------------


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an old module path with the module at its new place."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        new = MOVED_MODULES[spec.name]
        deprecated(f"'{spec.name}' moved to '{new}'; import it from there")
        # The module itself under a second name: classes stay the same objects, and the
        # import system keeps the module's own __name__ and __spec__.
        return importlib.import_module(new)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module at its new place is already imported."""


_FINDER = _MovedModules()


def install_module_aliases() -> None:
    """Make the old module paths importable (``import ltx_core`` does this)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)


# -- checkpoints -------------------------------------------------------------------------


def upgrade_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """An ltx checkpoint record in the current format (format 1 and 0.1 tasks' ``info``)."""
    out = dict(record)
    info = out.pop("info", None)
    if "handoff" not in out:
        # ltx 0.1 saved one ``info`` dict: the hand-off with the backbone's own state inside.
        info = {k: v for k, v in dict(info or {}).items() if k != "from_checkpoint"}
        out.update(format=2, handoff=info, backbone_state=info)
    elif isinstance(info, dict):
        # Written by a task of ltx 0.1 into self.info; its backbone reads it back.
        out["backbone_state"] = {**info, **dict(out.get("backbone_state") or {})}
    return out


#: The mixins, made on first use (see _legacy_task / _legacy_data).
_CLASSES: dict[str, type] = {}


# -- data modules ------------------------------------------------------------------------


def _overrides(cls: type, name: str, base: type) -> bool:
    """Whether ``cls`` defines ``name`` itself or in a class between it and ``base``."""
    mro = cls.__mro__
    return base in mro and any(name in vars(k) for k in mro[: mro.index(base)])


def _names_used(cls: type, base: type) -> set[str]:
    """Every attribute name the methods of ``cls`` (down to ``base``) refer to."""
    names: set[str] = set()

    def visit(code: types.CodeType) -> None:
        names.update(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                visit(const)

    for klass in cls.__mro__[: cls.__mro__.index(base)]:
        for value in vars(klass).values():
            func = getattr(value, "__func__", value)
            code = getattr(func, "__code__", None)
            if isinstance(code, types.CodeType):
                visit(code)
    return names


def current_datamodule_class(cls: type) -> type:
    """``cls``, or a subclass answering the current API for a data module of ltx 0.1."""
    from ltx_core.data import LtxDataModule

    if not (isinstance(cls, type) and issubclass(cls, LtxDataModule)):
        return cls
    uses = _names_used(cls, LtxDataModule)
    if not (_overrides(cls, "model_data_kwargs", LtxDataModule) or "_pin" in uses):
        return cls
    return type(cls.__name__, (cls, _legacy_data()), {"__module__": cls.__module__})


class _LegacyDataBase:
    """What a data module of ltx 0.1 calls and overrides."""

    def model_data_kwargs(self) -> dict[str, Any]:
        """ltx 0.1: the hand-off as a dict; override ``handoff()`` instead."""
        return {}

    def handoff(self) -> Any:
        deprecated(
            f"{type(self).__name__}.model_data_kwargs() is deprecated; override handoff() "
            "and return a HandOff subclass"
        )
        return dict(self.model_data_kwargs())

    def _pin(self) -> bool:
        deprecated(
            "LtxDataModule._pin() is deprecated; read the pin_memory property, or build "
            "loaders with self.loader(split, sampler=...)"
        )
        return bool(self.pin_memory)  # type: ignore[attr-defined]


def _legacy_data() -> type:
    """The mixin for 0.1 data modules, an ``LtxDataModule`` subclass (made on first use:
    ``LtxDataModule`` imports torch, which this module must not at import)."""
    if "data" not in _CLASSES:
        from ltx_core.data import LtxDataModule

        _CLASSES["data"] = type("_LegacyData", (_LegacyDataBase, LtxDataModule), {})
    return _CLASSES["data"]


# -- factories and tasks ---------------------------------------------------------------


def _accepts(func: Any, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    # ``**kwargs`` passes the argument on (a task's __init__ to LtxTask's).
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def current_tokenizer_factory(factory: Any, name: str) -> Any:
    """``factory``, or an adapter for a tokenizer factory ``(config, info)`` of ltx 0.1."""
    if _accepts(factory, "backbone"):
        return factory

    def current(config: Any, *, backbone: Any, restore: Any) -> Any:
        deprecated(f"The tokenizer factory of '{name}' takes (config, info)")
        return factory(config, {"backbone": backbone})

    return current


class LegacyBuild:
    """One build of a task whose pieces may be of ltx 0.1: they share one ``info`` dict.

    A 0.1 backbone factory may write into that dict (e.g. its model's config) and its
    task reads it back as ``self.info``; the dict is saved in every checkpoint as the
    backbone's state, so a restored model gets it back.
    """

    def __init__(self, handoff: Mapping[str, Any], restore: Any = None) -> None:
        self.handoff = dict(handoff)
        self.restore = restore
        self.info: dict[str, Any] = dict(restore.backbone_state) if restore else {}
        self.info.update(self.handoff)
        if restore is not None:
            self.info["from_checkpoint"] = True
        self.used = False

    def backbone_factory(self, factory: Any, name: str) -> Any:
        """``factory``, or an adapter for a backbone factory ``(config, info)`` of ltx 0.1."""
        if _accepts(factory, "request"):
            return factory
        from ltx_core.handoff import BuiltBackbone

        def current(config: Any, data: Any, *, request: Any, restore: Any) -> Any:
            deprecated(f"The backbone factory of '{name}' takes (config, info)")
            self.used = True
            if isinstance(request, Mapping):
                self.info.update(request)
            module = factory(config, self.info)
            state = {k: v for k, v in self.info.items() if k != "from_checkpoint"}
            return BuiltBackbone(module, state)

        current.__annotations__ = {}  # it reads the whole hand-off, as 0.1 factories did
        return current

    def task_class(self, cls: type) -> type:
        """``cls``, or a subclass answering the current API for a task of ltx 0.1."""
        from ltx_core.task import LtxTask

        batched = _overrides(cls, "predict_batch", LtxTask)
        legacy = (
            not _accepts(cls.__init__, "handoff")  # type: ignore[misc]
            or _overrides(cls, "backbone_info", LtxTask)
            or _overrides(cls, "on_run_end", LtxTask)
            or (_overrides(cls, "predict_inputs", LtxTask) and not batched)
            or "info" in _names_used(cls, LtxTask)
        )
        if not legacy:
            return cls
        build = self
        attrs: dict[str, Any] = {
            "__module__": cls.__module__,
            "_ltx_build": build,
            "_ltx_backbone_info": _overrides(cls, "backbone_info", LtxTask),
        }
        if not batched and getattr(cls, "predict_options", None) is None:
            attrs["predict_options"] = _legacy_predict_options()
        if not _accepts(cls.__init__, "handoff"):  # type: ignore[misc]
            deprecated(f"{cls.__name__}.__init__ takes info= instead of handoff=")

            def __init__(self: Any, config: Any, *, handoff: Any = None, restore: Any = None,
                         **common: Any) -> None:  # fmt: skip
                cls.__init__(self, config, info=build.info, **common)  # type: ignore[misc]
                self.restore = restore

            attrs["__init__"] = __init__
        return type(cls.__name__, (cls, _legacy_task()), attrs)


class _LegacyTaskBase:
    """What a task of ltx 0.1 calls and overrides (mixed in before ``LtxTask``)."""

    _ltx_build: LegacyBuild
    _ltx_backbone_info: bool = False

    def __init__(self, config: Any, *, info: Mapping[str, Any] | None = None, **kw: Any) -> None:
        if info is not None and kw.get("handoff") is None:
            # A task written for ltx 0.1 passes the hand-off on as ``info``.
            from ltx_core.handoff import declared_model

            given = {k: v for k, v in info.items() if k != "from_checkpoint"}
            kw["handoff"] = declared_model(type(self)).model_validate(given)
        super().__init__(config, **kw)  # type: ignore[call-arg]

    @classmethod
    def backbone_info(cls, config: Any, info: Mapping[str, Any]) -> dict[str, Any]:
        """ltx 0.1: what the task asks of the backbone; override backbone_request()."""
        return {}

    @classmethod
    def backbone_request(cls, config: Any) -> Any:
        request = super().backbone_request(config)  # type: ignore[misc]
        if not cls._ltx_backbone_info:
            return request
        deprecated(f"{cls.__name__}.backbone_info() is replaced by backbone_request()")
        extra = dict(cls.backbone_info(config, cls._ltx_build.handoff))
        return request if request is not None else extra

    @property
    def info(self) -> dict[str, Any]:
        """ltx 0.1: the hand-off and the backbone's state as one dict; read self.handoff."""
        deprecated(
            f"{type(self).__name__}.info is deprecated; declare 'handoff: MyData' on the task "
            "and read self.handoff"
        )
        build = self._ltx_build
        if not build.used:  # a current backbone: the dict is the hand-off and its state
            build.info.update(getattr(self, "backbone_state", {}))
            build.used = True
        return build.info

    @info.setter
    def info(self, value: Mapping[str, Any]) -> None:
        self._ltx_build.info = dict(value)

    def on_run_end(self, run_dir: Path) -> None:
        """ltx 0.1: end-of-run files; override write_artifacts(artifacts)."""

    def write_artifacts(self, artifacts: Path) -> None:
        if _overrides(type(self), "on_run_end", _legacy_task()):
            deprecated(
                f"{type(self).__name__}.on_run_end(run_dir) is deprecated; override "
                "write_artifacts(artifacts) to write under the run's artifacts/ folder"
            )
            self.on_run_end(artifacts.parent)
        super().write_artifacts(artifacts)  # type: ignore[misc]

    def predict_inputs(
        self, inputs: list[str], out_dir: Path, datamodule: Any = None, **options: Any
    ) -> list[Any]:
        """ltx 0.1's prediction API; implement predict_batch and predict_options."""
        from ltx_core.errors import LtxError

        raise LtxError(f"The task '{type(self).__name__}' does not support 'ltx predict'.")

    def predict_batch(self, inputs: list[Any], options: Any) -> list[Any]:
        out_dir = Path(getattr(self, "prediction_dir", "predictions"))
        out_dir.mkdir(parents=True, exist_ok=True)
        return list(self.predict_inputs(list(inputs), out_dir, None, **_strings(options)))

    def predict_dataset(self, datamodule: Any, out_dir: Path, options: Any) -> list[Any]:
        out_dir.mkdir(parents=True, exist_ok=True)
        return list(self.predict_inputs([], out_dir, datamodule, **_strings(options)))


def _strings(options: Any) -> dict[str, str]:
    dump = getattr(options, "model_dump", None)
    values = dump() if callable(dump) else dict(options or {})
    # A task of the predict_inputs API parses its own options, from the strings it was given.
    return {k: str(v) for k, v in values.items()}


def _legacy_task() -> type:
    """The mixin for 0.1 tasks, an ``LtxTask`` subclass (made once, on first use: ``LtxTask``
    imports torch, which this module must not at import)."""
    if "task" not in _CLASSES:
        from ltx_core.task import LtxTask

        _CLASSES["task"] = type("_LegacyTask", (_LegacyTaskBase, LtxTask), {})
    return _CLASSES["task"]


def _legacy_predict_options() -> type:
    """Options of a task written before typed options (``predict_inputs(**options)``):
    every ``--set key=value`` passes on as a string, as it always did. (Made on first use:
    pydantic is not imported by ``import ltx_core``.)"""
    if "options" not in _CLASSES:
        from pydantic import BaseModel, ConfigDict

        class LegacyPredictOptions(BaseModel):
            model_config = ConfigDict(extra="allow")

        _CLASSES["options"] = LegacyPredictOptions
    return _CLASSES["options"]
