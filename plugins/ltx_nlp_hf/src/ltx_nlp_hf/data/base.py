"""``HFDataModule``: untokenised rows in, tokenised and cached splits out.

The rows of each split come from :meth:`HFDataModule.read_records`: by default the
configured files or hub dataset; a new data source (a database, an API) overrides only
that method, with a config model of its own fields plus the family's
``<Family>SourceConfig`` (see ``docs/extending-a-task.md``). Reading rows needs only the
config: the tokenizer is asked for when the splits are tokenised (:meth:`setup`), so a
record source is unit-tested without one. ``ltx predict --input`` reads its files with
the class method :meth:`HFDataModule.predict_records` (by default the training files'
format and columns); a source with a file format of its own overrides it with the
reader its ``read_records`` uses.

A task family's dataset subclasses it and writes four small methods: which columns
it needs (:meth:`required_columns`), what it learns from the data for the model
(:meth:`build_meta`: label names, number of choices, ...), how it checks a split
against that (:meth:`check_split`), and how it tokenises (:meth:`tokenise`).
Everything else — reading, the seeded validation split, sample limits, the cache
and the tokenizer's part of the hand-off (:meth:`HFDataModule.tokenized_data`) — lives
here once; each family's ``handoff()`` returns its model of :mod:`ltx_nlp_hf.handoff`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ltx_core.config.models import DataConfig
from ltx_core.data import LtxDataModule
from ltx_core.errors import LtxError
from ltx_nlp_hf.config.data import FileSourceConfig, TokenisedDataConfig
from ltx_nlp_hf.data.cache import TokenisedCache, cache_key
from ltx_nlp_hf.data.collate import PadCollator
from ltx_nlp_hf.data.readers import DataFile, read_records
from ltx_nlp_hf.handoff import TokenizedData
from ltx_nlp_hf.hub import hub_offline
from ltx_nlp_hf.tokenizers import tokenizer_fingerprint

__all__ = ["SPLIT_NAMES", "HFDataModule", "records_digest"]

log = logging.getLogger(__name__)

SPLIT_NAMES = {"train": "training", "validation": "validation", "test": "test"}
# Loader settings change how batches are served, never what is tokenised; file paths are
# covered by the files' content hashes (a moved or copied file still hits the cache).
_NOT_IN_KEY = {
    "name",
    "train_file",
    "validation_file",
    "test_file",
    "batch_size",
    "eval_batch_size",
    "num_workers",
    "pin_memory",
    "persistent_workers",
    "cache",
    "cache_dir",
    "padding",
    "pad_to_multiple_of",
    "group_by_length",
    "limit_train_samples",
    "limit_val_samples",
    "limit_test_samples",
    "streaming",  # a streamed run is never cached
    "shuffle_buffer",
}


def records_digest(records: list[dict[str, Any]]) -> str:
    """A hash of a split's rows, for the cache key of a source that is not files."""
    h = hashlib.sha256()
    for row in records:
        h.update(json.dumps(row, sort_keys=True, default=str).encode())
        h.update(b"\n")
    return h.hexdigest()


class HFDataModule(LtxDataModule):
    """Base of this plugin's datasets; subclasses define the schema and the tokenisation."""

    config: TokenisedDataConfig
    #: The family's own-files dataset, named when a hub schema does not fit the user's files.
    files_dataset: str = ""
    #: Whether a record source's rows may be cached (their hash is part of the key); a
    #: source whose rows cannot be hashed or change on every read sets this to False.
    cacheable: bool = True

    def __init__(
        self, config: TokenisedDataConfig, *, tokenizer: Any = None, seed: int = 42
    ) -> None:
        # No tokenizer is required here: reading records (read_records) needs only the
        # config, and setup() asks for the tokenizer before it tokenises.
        super().__init__(config, tokenizer=tokenizer, seed=seed)
        #: What the data told us (labels, ...), JSON-able; cached with the tokenised
        #: splits and part of the hand-off.
        self.meta: dict[str, Any] = {}
        #: Untokenised data kept for evaluation (e.g. QA contexts), by name.
        self.extras: dict[str, Any] = {}
        #: Whether the last setup read the tokenised data from the cache.
        self.cache_hit = False
        self.cache_path: str | None = None
        self._sources: dict[str, str] = {}
        self._files: dict[str, DataFile] = {}
        self._hub: dict[str, Any] | None = None
        self._opened = False
        self._key = ""
        self._maps = 0

    # -- where the rows come from --------------------------------------------
    def read_records(self, split: str) -> Iterable[dict[str, Any]] | None:
        """The untokenised rows of ``split`` (train, validation, test), or ``None`` when
        the source has no such split (validation is then carved from train).

        Each row is a dict with the columns the family documents. The default reads the
        configured files (or the hub dataset); a record source overrides this alone.
        Needs no tokenizer (a unit test calls it on a data module built from its config).
        """
        if isinstance(self.config, FileSourceConfig):
            self._open_source()
        if split in self._files:
            return self._file_records(self._files[split])
        if self._hub is not None:
            return self._hub.get(split)
        return None

    @classmethod
    def predict_records(cls, source: str, config: DataConfig) -> Iterator[dict[str, Any]]:
        """The rows of ``ltx predict --input SOURCE`` (a file, folder or glob; ``-``:
        JSON lines on standard input) in the training files' formats and columns
        (:func:`~ltx_nlp_hf.data.readers.iter_predict_records`), label columns optional.

        A source whose files have a format of its own (nested JSON, a database file)
        overrides this with the reader its :meth:`read_records` uses, so both read one
        format; ``config`` is the checkpoint's dataset section, and no tokenizer or
        training data is at hand. Stream the rows: an input may be larger than memory.
        """
        from ltx_nlp_hf.data.readers import iter_predict_records

        return iter_predict_records(source, config.model_dump())

    def describe_records(self, split: str) -> str:
        """Where a record source's split comes from, for messages (files say their path)."""
        return (
            f"the {split} records of dataset '{getattr(self.config, 'name', type(self).__name__)}'"
        )

    def resolve_columns(self, columns: list[str]) -> None:
        """Settle which columns hold what from the training data's columns (inference)."""

    # -- what subclasses write ---------------------------------------------
    def required_columns(self) -> dict[str, str]:
        """Columns every split must have -> the config option that names each."""
        return {}

    def reader_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`read_records` (column names of text and CoNLL files)."""
        return {}

    def prepare_records(self, records: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
        """Reshape a file's records before they become a dataset (e.g. nested SQuAD JSON)."""
        return records

    def build_meta(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Learn what the model must know from the untokenised splits."""
        return {}

    def usable(self, split: str, ds: Any) -> bool:
        """Whether a split can be used (e.g. GLUE hides its test labels as -1: it cannot)."""
        return True

    def check_split(self, split: str, ds: Any, meta: dict[str, Any]) -> None:
        """Raise LtxError when a split disagrees with what was learnt (an unseen label)."""

    def tokenise(self, split: str, ds: Any, meta: dict[str, Any]) -> Any:
        """The tokenised dataset of one split."""
        raise NotImplementedError

    def extra_parts(self, split: str, raw: Any, meta: dict[str, Any]) -> dict[str, Any]:
        """Untokenised datasets to keep for evaluating ``split`` (cached with the rest)."""
        return {}

    # -- the hand-off ------------------------------------------------------
    def tokenized_data(self) -> dict[str, Any]:
        """The fields of :class:`~ltx_nlp_hf.handoff.TokenizedData`: the tokenizer's
        vocabulary and special tokens, and the configured ``max_length``. Each family's
        :meth:`handoff` adds what it learnt from the data (``self.meta``)."""
        tok = self.tokenizer
        self.setup()
        eos = tok.eos_token_id if tok.eos_token_id is not None else tok.sep_token_id
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.cls_token_id
        return {
            "vocab_size": len(tok),
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": eos,
            "bos_token_id": bos,
            "mask_token_id": tok.mask_token_id,
            "max_length": self.config.max_length,
        }

    def handoff(self) -> TokenizedData:
        """:class:`~ltx_nlp_hf.handoff.TokenizedData`, with what the data told us; each
        family returns its own model instead."""
        return TokenizedData(**self.tokenized_data(), **self.meta)

    def collate_fn(self, split: str) -> Callable[[list[Any]], Any] | None:
        cfg = self.config
        return PadCollator(self.tokenizer, cfg.padding, cfg.max_length, cfg.pad_to_multiple_of)

    def train_dataloader(self) -> Any:
        cfg = self.config
        if not cfg.group_by_length:
            return super().train_dataloader()
        from ltx_nlp_hf.data.sampling import LengthGroupedSampler, example_lengths

        lengths = example_lengths(self.splits["train"])
        return self.loader(
            "train", sampler=LengthGroupedSampler(lengths, cfg.batch_size, seed=self.seed)
        )

    # -- loading -------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        """Load and tokenise the splits once; the tokenizer is required from here on."""
        if self.tokenizer is None:
            raise LtxError(
                f"The dataset '{getattr(self.config, 'name', type(self).__name__)}' tokenises "
                f"its text and needs a tokenizer; pass --tokenizer hf-auto."
            )
        super().setup(stage)

    def load_splits(self) -> dict[str, Any]:
        cfg = self.config
        records: dict[str, list[dict[str, Any]]] | None = None
        if type(self).read_records is HFDataModule.read_records:
            # Files and hub datasets have cheap fingerprints: rows are read on a cache miss only.
            self._open_source()
            source: dict[str, Any] | None = {
                "files": {split: f.digest for split, f in self._files.items()},
                "hub": {split: ds._fingerprint for split, ds in (self._hub or {}).items()},
            }
        else:
            records = self._read_source()
            source = (
                {"records": {s: records_digest(r) for s, r in records.items()}}
                if self.cacheable
                else None
            )
        material = {
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "config": cfg.model_dump(mode="json", exclude=_NOT_IN_KEY),
            "limits": [cfg.limit_train_samples, cfg.limit_val_samples, cfg.limit_test_samples],
            **(source or {}),
            "tokenizer": tokenizer_fingerprint(self.tokenizer),
            "seed": self.seed,
        }
        key = cache_key(material)
        self._key = key
        cache = TokenisedCache(cfg.cache_dir, key) if cfg.cache and source is not None else None
        self.cache_path = str(cache.path) if cache else None
        cached = cache.load() if cache else None
        if cached is not None:
            parts, self.meta = cached
            self.cache_hit = True
            log.info("Loaded the tokenised data from the cache (%s).", self.cache_path)
        else:
            self.cache_hit = False
            raw = self._raw_splits(records)
            with self._schema_hint():
                self.meta = self.build_meta(raw)
                for split, ds in raw.items():
                    self.check_split(split, ds, self.meta)
            parts = {}
            for split, ds in raw.items():
                parts[split] = self.tokenise(split, ds, self.meta)
                if len(parts[split]) == 0:
                    raise LtxError(
                        f"The {SPLIT_NAMES[split]} data ({self._sources[split]}) gave no "
                        f"examples after tokenisation."
                    )
                for name, extra in self.extra_parts(split, ds, self.meta).items():
                    parts[name] = extra
            if cache is not None:
                cache.save(parts, self.meta)
        self.extras = {k: v for k, v in parts.items() if k not in SPLIT_NAMES}
        return {k: v for k, v in parts.items() if k in SPLIT_NAMES}

    def _read_source(self) -> dict[str, list[dict[str, Any]]]:
        """Every split a record source has, read once (its hash keys the cache)."""
        out = {}
        for split in SPLIT_NAMES:
            rows = self.read_records(split)
            if rows is None:
                continue
            self._sources[split] = self.describe_records(split)
            out[split] = [dict(r) for r in rows]
            if not out[split]:
                raise LtxError(f"The {SPLIT_NAMES[split]} data ({self._sources[split]}) is empty.")
        if "train" not in out:
            raise LtxError(
                f"The dataset '{getattr(self.config, 'name', type(self).__name__)}' gave no "
                f"training records."
            )
        return out

    def _file_config(self) -> FileSourceConfig:
        cfg = self.config
        if not isinstance(cfg, FileSourceConfig):  # pragma: no cover - a source's own bug
            raise TypeError(
                f"{type(self).__name__} reads no files (its config has no file fields); "
                "override read_records()."
            )
        return cfg

    def _open_source(self) -> None:
        """Open the configured files (or load the hub dataset) once: read_records opens
        them on first use, before or without setup."""
        if self._opened:
            return
        cfg = self._file_config()
        named = {"train": cfg.train_file, "validation": cfg.validation_file, "test": cfg.test_file}
        if cfg.train_file is None and (cfg.validation_file or cfg.test_file):
            raise LtxError(
                "dataset.validation_file and dataset.test_file need dataset.train_file as well."
            )
        if cfg.train_file is None and cfg.hub_path is None:
            raise LtxError(
                f"The dataset '{getattr(cfg, 'name', 'files')}' has no data: set "
                f"dataset.train_file (and optionally validation_file and test_file) to local "
                f"files, or dataset.hub_path to a Hugging Face Hub dataset."
            )
        for split, path in named.items():
            if path is not None:
                self._files[split] = DataFile.open(path, SPLIT_NAMES[split])
                self._sources[split] = f"'{self._files[split].path}'"
        if not self._files:
            self._hub = self._load_hub()
        self._opened = True

    @contextmanager
    def _schema_hint(self) -> Iterator[None]:
        """Own files under a hub dataset's name are read in its schema; say how to escape it."""
        cfg = self.config
        hub_schema = isinstance(cfg, FileSourceConfig) and cfg.hub_path and self._files
        try:
            yield
        except LtxError as exc:
            if not (hub_schema and self.files_dataset):
                raise
            raise LtxError(
                f"{str(exc).rstrip('.')}; the dataset '{getattr(cfg, 'name', '')}' reads files "
                f"in its hub schema, so for your own columns and labels use --dataset "
                f"{self.files_dataset}."
            ) from None

    def _load_hub(self) -> dict[str, Any]:
        cfg = self._file_config()
        assert cfg.hub_path is not None
        import datasets

        label = cfg.hub_path + (f" ({cfg.hub_name})" if cfg.hub_name else "")
        dataset_name = getattr(cfg, "name", "")
        hint = (
            f"set dataset.train_file (and validation_file, test_file) to local files in the same "
            f"schema{f', or try --dataset {dataset_name}-sample' if dataset_name else ''}"
        )
        if hub_offline() and not datasets.config.HF_HUB_OFFLINE:
            raise LtxError(
                f"The hub dataset '{label}' cannot be downloaded: the Hugging Face Hub is not "
                f"reachable (set HF_HUB_OFFLINE=1 to use a cached copy); {hint}."
            )
        try:
            loaded = datasets.load_dataset(cfg.hub_path, cfg.hub_name)
        except Exception as exc:  # the hub client raises many types; all mean "not loaded"
            raise LtxError(
                f"Could not load the hub dataset '{label}' ({type(exc).__name__}); {hint}."
            ) from None
        out = {}
        for split, hub_split in (
            ("train", "train"),
            ("validation", cfg.hub_validation_split),
            ("test", "test"),
        ):
            if hub_split in loaded:
                out[split] = loaded[hub_split]
                self._sources[split] = f"hub dataset '{label}', split '{hub_split}'"
        if "train" not in out:
            raise LtxError(f"The hub dataset '{label}' has no 'train' split.")
        return out

    def _file_records(self, f: DataFile) -> list[dict[str, Any]]:
        cfg = self._file_config()
        return read_records(f, cfg.file_format, json_field=cfg.json_field, **self.reader_options())

    def _to_dataset(self, split: str, rows: Iterable[dict[str, Any]]) -> Any:
        from datasets import Dataset

        if isinstance(rows, Dataset):  # a hub split is used as it is
            return rows
        records = self.prepare_records(list(rows), self._sources[split])
        try:
            return Dataset.from_list(records)
        except Exception as exc:  # pyarrow refuses a column that mixes types
            raise LtxError(
                f"The {SPLIT_NAMES[split]} data ({self._sources[split]}) mixes value types within "
                f"a column ({type(exc).__name__}: {str(exc).splitlines()[0]})."
            ) from None

    def _raw_splits(self, records: dict[str, list[dict[str, Any]]] | None) -> dict[str, Any]:
        cfg = self.config
        raw = {}
        for split in SPLIT_NAMES:
            rows = records.get(split) if records is not None else self.read_records(split)
            if rows is not None:
                raw[split] = self._to_dataset(split, rows)
        if "train" not in raw:
            raise LtxError(f"The dataset '{getattr(cfg, 'name', '')}' has no training data.")
        self.resolve_columns(list(raw["train"].column_names))
        with self._schema_hint():
            for split, ds in raw.items():
                self._check_columns(split, ds)
        if "validation" not in raw:
            train = raw["train"]
            if len(train) < 2:
                raise LtxError(
                    f"The training data ({self._sources['train']}) has {len(train)} example; "
                    f"too few to split off validation data, so set dataset.validation_file."
                )
            parts = train.train_test_split(test_size=cfg.validation_split, seed=self.seed)
            raw["train"], raw["validation"] = parts["train"], parts["test"]
            self._sources["validation"] = (
                f"{cfg.validation_split:.0%} of {self._sources['train']} (seed {self.seed})"
            )
        limits = {
            "train": cfg.limit_train_samples,
            "validation": cfg.limit_val_samples,
            "test": cfg.limit_test_samples,
        }
        for split, limit in limits.items():
            if limit is not None and split in raw and len(raw[split]) > limit:
                raw[split] = raw[split].select(range(limit))
        for split in [s for s in raw if s != "train"]:
            if not self.usable(split, raw[split]):
                log.warning(
                    "Leaving out the %s data (%s): it has no usable labels.",
                    SPLIT_NAMES[split],
                    self._sources[split],
                )
                del raw[split]
        return {s: raw[s] for s in ("train", "validation", "test") if s in raw}

    def _check_columns(self, split: str, ds: Any) -> None:
        for column, option in self.required_columns().items():
            if column not in ds.column_names:
                raise LtxError(
                    f"The {SPLIT_NAMES[split]} data ({self._sources[split]}) has no column "
                    f"'{column}' (dataset.{option}); its columns are: "
                    f"{', '.join(ds.column_names)}."
                )

    def describe(self, split: str) -> str:
        """Where a split came from, for error messages."""
        return self._sources.get(split, split)

    def map_batched(
        self,
        ds: Any,
        fn: Callable[..., dict[str, list[Any]]],
        split: str,
        with_indices: bool = False,
    ) -> Any:
        """``ds.map`` over batches, replacing every column.

        The fingerprint comes from the cache key, so ``datasets`` does not try to hash the
        closure (and the tokenizer inside it) to name its own cache files.
        """
        self._maps += 1
        return ds.map(
            fn,
            batched=True,
            with_indices=with_indices,
            remove_columns=ds.column_names,
            new_fingerprint=f"{self._key}-{split}-{self._maps}",
            desc=f"Tokenising the {SPLIT_NAMES.get(split, split)} data",
        )
