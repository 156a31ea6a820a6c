"""Optimizer machinery the tasks share (:mod:`ltx_core.optim.bf16`: updates of bf16
weights under ``trainer.precision: bf16-true``)."""
