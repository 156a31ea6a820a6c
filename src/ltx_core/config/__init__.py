"""Config: the core's pydantic models (``models``), the installed Lightning Trainer's
argument names read without importing it (``lightning_args``), the layering of defaults,
files, overrides and flags into one validated run config (``resolve``), and a run as a
user asked for it (``request``). Torch-free."""
