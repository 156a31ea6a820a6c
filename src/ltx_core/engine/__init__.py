"""The training engine: a resolved config becomes built components (``build``), a
Lightning Trainer (``trainer``) and a run directory (``training``), with the callbacks,
checkpointing, resuming, precision, strategies, throughput and MFU every run gets.
Imports torch and Lightning; nothing below it does."""
