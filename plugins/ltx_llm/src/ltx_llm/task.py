"""The ``chat`` task: supervised fine-tuning of a causal LM on conversations.

Training: the causal-LM loss on the trained tokens only (the assistant turns, unless the
dataset trains on prompts too), on packed rows where the dataset packs. Validation and
test: token loss and perplexity; on the test split each conversation's last answer is
also generated (greedy) and scored against the reference (normalised exact match, token
F1 and ROUGE-L). ``ltx predict`` completes prompts or message lists, batched.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from ltx_nlp_hf.tasks.base import HFTask
from pydantic import BaseModel

from ltx_core.errors import LtxError
from ltx_llm.config import ChatPredictOptions, ChatTaskConfig
from ltx_llm.conversations import BadRecord, Message, to_messages
from ltx_llm.generation import DecodeSettings, PieceHandler, generate, stream
from ltx_llm.handoff import ChatData
from ltx_llm.loss import TrainedLogits, trained_token_loss
from ltx_llm.metrics import answer_metrics
from ltx_llm.rendering import IGNORE, prompt_ids

__all__ = ["ChatTask"]


class ChatTask(HFTask):
    """Chat SFT over a ``transformers`` causal LM.

    Batch: ``input_ids`` and ``labels`` (:data:`~ltx_llm.rendering.IGNORE` where not
    trained), with ``attention_mask`` (padded examples) or restarting ``position_ids``
    (packed rows); test batches add ``prompt_ids``/``prompt_mask`` (left-padded) and
    ``reference`` strings. Hand-off: :class:`~ltx_llm.handoff.ChatData`.
    """

    config: ChatTaskConfig
    handoff: ChatData
    head = "causal-lm"
    pipeline_task = "text-generation"
    monitor = "val_loss"
    monitor_mode = "min"
    non_model_keys: ClassVar[tuple[str, ...]] = (
        "prompt_ids",
        "prompt_mask",
        "reference",
        "num_tokens",
    )

    @classmethod
    def preview(cls, datamodule: Any, split: str, limit: int, *, handoff: Any) -> Any:
        """The generic preview (trained tokens marked: the labels are the inputs where
        trained), with the data checks' counts and, for packed training rows, each row's
        conversations and the padding packing saves."""
        from ltx_core.preview import default_preview

        out = default_preview(datamodule, split, limit, handoff=handoff)
        report = dict(datamodule.meta.get("reports", {}).get(split, {}))
        if not report:
            return out
        problems = report.get("problems", {})
        out.stats["data_checks"] = {
            k: report[k] for k in ("records", "examples", "truncated", "answers_cut") if k in report
        } | {"problems": problems}
        line = f"Data checks: {report['examples']} of {report['records']} usable"
        if problems:
            first = next(iter(report.get("first_problem", {}).values()), "")
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(problems.items()))
            line += f"; left out: {kinds} (the first: {first})"
        if report.get("truncated"):
            line += f"; {report['truncated']} truncated to their leading turns"
        out.notes.append(line + ".")
        # Truncation is counted per conversation when the data is rendered (a packed row
        # that reaches max_length is full, not truncated).
        out.stats["at_max_length"] = report.get("truncated", 0)
        out.stats["truncation_rate"] = report.get("truncated", 0) / max(report["examples"], 1)
        if "packed_rows" in report:
            out.stats["packing"] = {
                "rows": report["packed_rows"],
                "conversations": report["examples"],
                "padding": report["padding_packed"],
                "padding_unpacked": report["padding_unpacked"],
            }
            out.notes.append(
                f"Packing: {report['examples']} conversations in {report['packed_rows']} rows "
                f"of up to {datamodule.config.max_length} tokens; padding "
                f"{report['padding_packed']:.0%} (unpacked: {report['padding_unpacked']:.0%}); "
                "a row's 'lengths' are its conversations, positions restart at each and "
                "attention stops at its end."
            )
        return out

    def __init__(self, config: ChatTaskConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        # The template the data was rendered with, saved in the hand-off (prompts render
        # with it explicitly): the tokenizer carries it too, so the export, a rebuild from
        # a checkpoint and anything else reading the tokenizer agree, whatever its files say.
        if self.tokenizer is not None and self.handoff is not None:
            self.tokenizer.chat_template = self.handoff.chat_template
        # The logits of the trained tokens only (the way chosen on the first batch).
        self.trained_logits = TrainedLogits()

    # -- steps ---------------------------------------------------------------
    def _loss(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, int]:
        labels = batch["labels"]
        loss = trained_token_loss(
            self.backbone, self.model_inputs(batch), labels, self.trained_logits
        )
        return loss, int((labels[:, 1:] != IGNORE).sum())

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        self.log("train_loss", loss, prog_bar=True, batch_size=self._batch_size(batch))
        return loss

    def batch_stats(self, batch: Any) -> tuple[int, int | None]:
        if "num_tokens" in batch:
            return int(batch["input_ids"].shape[0]), int(batch["num_tokens"])
        return super().batch_stats(batch)

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        loss, count = self._loss(batch)
        self.log_loss(stage, loss, batch)
        record: dict[str, Any] = {"loss": float(loss) * count, "tokens": count, "pairs": []}
        if stage == "test" and self.config.test_generation and "prompt_ids" in batch:
            record["pairs"] = self._generated_answers(batch)
        return record

    def _generated_answers(self, batch: Mapping[str, Any]) -> list[tuple[str, str]]:
        refs: list[str] = batch["reference"]
        keep = [i for i, r in enumerate(refs) if r]
        if not keep:
            return []
        ids, mask = batch["prompt_ids"], batch["prompt_mask"]
        prompts = [ids[i][mask[i].bool()].tolist() for i in keep]
        settings = self.decode_settings(None)
        done = generate(self.backbone, self._require_tokenizer(), prompts, settings)
        return [(c.text, refs[i]) for c, i in zip(done, keep, strict=True)]

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        tokens = sum(r["tokens"] for r in records)
        out: dict[str, float] = {}
        if tokens:
            mean = sum(r["loss"] for r in records) / tokens
            out |= {"token_loss": mean, "perplexity": math.exp(min(mean, 700.0))}
        pairs = [p for r in records for p in r["pairs"]]
        if pairs:
            out |= answer_metrics([p for p, _ in pairs], [g for _, g in pairs])
        return out

    # -- prediction ------------------------------------------------------------------
    predict_options = ChatPredictOptions
    predict_input_doc = (
        "a prompt (the user's message), a JSON list of messages, or an object with 'messages'"
    )

    def decode_settings(self, options: ChatPredictOptions | None) -> DecodeSettings:
        """The checkpoint's ``task.generation`` with the request's options over it."""
        gen = self.config.generation
        given = options.model_dump(exclude_none=True) if options is not None else {}
        temperature = given.get("temperature", gen.temperature if gen.do_sample else 0.0)
        return DecodeSettings(
            max_new_tokens=given.get("max_new_tokens", gen.max_new_tokens),
            temperature=float(temperature),
            top_p=given.get("top_p", gen.top_p),
            top_k=given.get("top_k", gen.top_k),
            stop=tuple(given.get("stop", ())),
            seed=given.get("seed"),
        )

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        out = []
        for n, item in enumerate(raw):
            try:
                out.append(prompt_messages(item))
            except BadRecord as exc:
                raise LtxError(f"Input {n} is not a prompt: {exc}.") from None
        return out

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        """A row of an input file as the messages to answer: any chat shape (a final
        assistant turn, the reference, is left out), a ``prompt``, or a plain-text
        line's ``text``."""
        if "text" in record and not {"messages", "conversations", "prompt", "instruction"} & set(
            record
        ):
            record = {"prompt": record["text"]}
        try:
            return prompt_messages(dict(record))
        except BadRecord as exc:
            raise LtxError(f"A row of the input is not a prompt: {exc}.") from None

    def predict_input_length(self, item: Any) -> int:
        return sum(len(m["content"]) for m in item)

    def predict_batch(self, inputs: list[Any], options: ChatPredictOptions) -> list[Any]:
        """Complete each conversation's next assistant turn, in one batched call."""
        return self.stream_chats(inputs, options)

    def stream_chats(
        self,
        inputs: list[Any],
        options: ChatPredictOptions | Sequence[ChatPredictOptions],
        on_piece: PieceHandler | None = None,
        stopped: Callable[[int], bool] | None = None,
        more: Callable[[int], Sequence[tuple[Any, ChatPredictOptions]]] | None = None,
        max_rows: int | None = None,
    ) -> list[dict[str, Any]]:
        """Complete each conversation's next assistant turn in one batched call, each
        answer streamed as it comes when ``on_piece(i, text)`` is given (``ltx serve``
        batches the streamed completions of its clients this way); ``stopped(i)`` ends
        conversation ``i`` early.

        ``options`` are every conversation's, or one per conversation, sharing their
        :meth:`stream_key`. ``more(room)`` gives conversations that arrived meanwhile,
        with their options (at most ``room``): they join the batch between two tokens,
        up to ``max_rows`` at once, numbered after ``inputs``. The records are
        :meth:`predict_batch`'s, the joined conversations' last."""
        tok = self._require_tokenizer()
        each = [options] * len(inputs) if isinstance(options, BaseModel) else list(options)
        conversations = [_with_system(m, o.system) for m, o in zip(inputs, each, strict=True)]

        def prompt(messages: list[Message]) -> list[int]:
            return prompt_ids(tok, messages, template=self.handoff.chat_template)

        def joining(room: int) -> list[tuple[list[int], DecodeSettings]]:
            came = [(_with_system(m, o.system), o) for m, o in (more(room) if more else ())]
            conversations.extend(m for m, _ in came)
            return [(prompt(m), self.decode_settings(o)) for m, o in came]

        done = generate(
            self.backbone,
            tok,
            [prompt(m) for m in conversations],
            [self.decode_settings(o) for o in each],
            on_piece=on_piece,
            stopped=stopped,
            more=joining if more is not None else None,
            max_rows=max_rows,
            # Prediction and serving only (never a training run's test generation): the
            # weights stay as they are between calls, so the system prompt's cache may.
            reuse_prefix=True,
        )
        return [
            {
                "messages": m,
                "completion": c.text,
                "tokens": c.tokens,
                "finish_reason": c.finish_reason,
            }
            for m, c in zip(conversations, done, strict=True)
        ]

    def stream_key(self, options: ChatPredictOptions) -> str:
        """What conversations must share to be generated in one batch: how the next
        token is chosen. Token limits, stop strings and system prompts may differ."""
        return json.dumps(self.decode_settings(options).sampling(), default=str)

    def chat_prompt(self, messages: list[Message], options: ChatPredictOptions) -> list[int]:
        """The prompt tokens of ``messages`` (checked as a prediction input is)."""
        (checked,) = self.check_predict_inputs([messages])
        return prompt_ids(
            self._require_tokenizer(),
            _with_system(checked, options.system),
            template=self.handoff.chat_template,
        )

    def stream_chat(self, messages: list[Message], options: ChatPredictOptions) -> Iterator[str]:
        """The next assistant turn of ``messages``, piece by piece as it is generated
        (what ``ltx serve`` streams to OpenAI clients)."""
        prompt = self.chat_prompt(messages, options)
        return stream(
            self.backbone, self._require_tokenizer(), prompt, self.decode_settings(options)
        )

    def export_hf(self, out: Path) -> None:
        """The export is a whole model: with LoRA the adapter is merged into it (the
        checkpoint keeps the adapter alone), so ``transformers.pipeline``,
        ``AutoModelForCausalLM`` and lm-eval's ``hf`` model load it without peft."""
        from ltx_nlp_hf.peft_support import is_peft

        if is_peft(self.backbone):
            peft = self.backbone_state.setdefault("peft", {})
            peft["export"] = "merged"
        super().export_hf(out)


def _with_system(messages: list[Message], system: str | None) -> list[Message]:
    if system and (not messages or messages[0]["role"] != "system"):
        return [{"role": "system", "content": system}, *messages]
    return messages


def prompt_messages(item: Any) -> list[Message]:
    """A prediction input as the messages to answer: a string is the user's message; a
    list of messages or a record in any chat shape loses a final assistant turn (its
    reference answer)."""
    if isinstance(item, str):
        text = item.strip()
        if text.startswith(("[", "{")):
            import json

            try:
                return prompt_messages(json.loads(text))
            except json.JSONDecodeError:
                pass
        return [{"role": "user", "content": item}]
    if isinstance(item, list):
        item = {"messages": item}
    if not isinstance(item, Mapping):
        raise BadRecord(f"it is a {type(item).__name__}, not text or messages")
    if "prompt" in item and "completion" not in item:
        item = {**item, "completion": ""}
    messages = to_messages(item, need_answer=False)
    if messages[-1]["role"] == "assistant":
        messages = messages[:-1]
    if not messages:
        raise BadRecord("it has no turn before its answer")
    return messages
