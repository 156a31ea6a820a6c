"""Extractive question answering (SQuAD v1 and v2), scored by exact match and F1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ltx_core.errors import LtxError
from ltx_nlp_hf.config.predict import QuestionAnsweringPredictOptions
from ltx_nlp_hf.config.tasks import QuestionAnsweringConfig
from ltx_nlp_hf.handoff import QuestionAnsweringData
from ltx_nlp_hf.metrics import squad_metrics
from ltx_nlp_hf.qa import best_answers, tokenise_windows
from ltx_nlp_hf.tasks.base import STAGE_SPLIT, HFTask, json_object_or_text

__all__ = ["QuestionAnsweringTask"]


class QuestionAnsweringTask(HFTask):
    """Fine-tunes a span-prediction head; answers are mapped back to context text.

    Batch: ``input_ids``, ``attention_mask`` (and ``token_type_ids``), (batch, tokens),
    one window of a context each; in training ``start_positions`` and
    ``end_positions`` (batch,), in evaluation ``feature_index`` (batch,) into the data
    module's windows, whose ``{split}_examples`` extra holds the contexts and answers.
    Hand-off: :class:`~ltx_nlp_hf.handoff.QuestionAnsweringData` (``doc_stride``,
    ``version_2_with_negative``).
    """

    config: QuestionAnsweringConfig
    handoff: QuestionAnsweringData
    head = "question-answering"
    monitor = "val_f1"
    monitor_mode = "max"

    def eval_step(self, stage: str, batch: dict[str, Any], batch_idx: int) -> Any:
        out = self.backbone(**self.model_inputs(batch))
        mask = batch["attention_mask"].bool()
        # Keep each window's real tokens only: padding differs from batch to batch.
        return [
            (
                int(fi),
                out.start_logits[i][mask[i]].float().cpu().numpy(),
                out.end_logits[i][mask[i]].float().cpu().numpy(),
            )
            for i, fi in enumerate(batch["feature_index"].tolist())
        ]

    def _answers(self, records: list[Any], features: Any, contexts: list[str]) -> dict[int, str]:
        rows = [r for record in records for r in record]
        indices = [fi for fi, _, _ in rows]
        chosen = features.select(indices)
        windows = list(
            zip(chosen["example_index"], chosen["offset_mapping"], chosen["cls_index"], strict=True)
        )
        answers = best_answers(
            contexts,
            windows,
            [s for _, s, _ in rows],
            [e for _, _, e in rows],
            n_best=self.config.n_best_size,
            max_answer_length=self.config.max_answer_length,
            with_negative=self.handoff.version_2_with_negative,
            null_threshold=self.config.null_score_diff_threshold,
        )
        seen = set(chosen["example_index"])
        return {ex: answers[ex]["text"] for ex in sorted(seen)}

    def eval_metrics(self, stage: str, records: list[Any]) -> dict[str, float]:
        datamodule = self.datamodule
        split = STAGE_SPLIT[stage]
        if datamodule is None or f"{split}_examples" not in getattr(datamodule, "extras", {}):
            raise LtxError("Question answering needs its own dataset to turn spans back into text.")
        examples = datamodule.extras[f"{split}_examples"]
        contexts = list(examples["context"])
        predicted = self._answers(records, datamodule.splits[split], contexts)
        golds = [examples[ex]["answers"]["text"] for ex in predicted]
        return squad_metrics(list(predicted.values()), golds)

    # -- prediction ------------------------------------------------------------------
    predict_options = QuestionAnsweringPredictOptions
    predict_input_doc = (
        'an object {"question": ..., "context": ...} (or that object as a JSON string); '
        "a bare question with the option context"
    )

    def predict_input_from_record(self, record: Mapping[str, Any]) -> Any:
        q = self.data_setting("question_column", "question")
        c = self.data_setting("context_column", "context")
        return {"question": record[q], "context": record[c]}

    def check_predict_inputs(self, raw: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for i, given in enumerate(raw):
            item = json_object_or_text(given)
            if isinstance(item, str):
                out.append(item)
                continue
            if (
                isinstance(item, Mapping)
                and isinstance(item.get("question"), str)
                and isinstance(item.get("context"), str)
            ):
                out.append({"question": item["question"], "context": item["context"]})
                continue
            raise LtxError(
                f'Input {i} must be an object {{"question": "...", "context": "..."}} of '
                "strings, or a question with the option context."
            )
        return out

    def predict_batch(
        self, inputs: list[Any], options: QuestionAnsweringPredictOptions
    ) -> list[Any]:
        """The best span of each context (long contexts are read in windows)."""
        questions, contexts = [], []
        for item in inputs:
            if isinstance(item, str):
                if options.context is None:
                    raise LtxError(
                        'Each input must be JSON like {"question": "...", "context": "..."}, or '
                        "pass the context once with --set context=..."
                    )
                questions.append(item)
                contexts.append(options.context)
            else:
                questions.append(item["question"])
                contexts.append(item["context"] if options.context is None else options.context)
        tok = self._require_tokenizer()
        max_length = self.handoff.max_length
        stride = self.handoff.doc_stride
        enc, examples, offsets, cls = tokenise_windows(tok, questions, contexts, max_length, stride)
        batch = tok.pad(enc, return_tensors="pt")
        out = self.backbone(**self.model_inputs({k: v.to(self.device) for k, v in batch.items()}))
        mask = batch["attention_mask"].bool()
        starts = [out.start_logits[i][mask[i]].float().cpu().numpy() for i in range(len(examples))]
        ends = [out.end_logits[i][mask[i]].float().cpu().numpy() for i in range(len(examples))]
        answers = best_answers(
            contexts,
            list(zip(examples, offsets, cls, strict=True)),
            starts,
            ends,
            n_best=self.config.n_best_size,
            max_answer_length=options.max_answer_length or self.config.max_answer_length,
            with_negative=self.handoff.version_2_with_negative,
            null_threshold=self.config.null_score_diff_threshold,
        )
        return [
            {
                "question": q,
                "answer": a["text"],
                "start": a["start"],
                "end": a["end"],
                "score": round(float(a["score"]), 4),
            }
            for q, a in zip(questions, answers, strict=True)
        ]
