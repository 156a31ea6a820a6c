"""The tasks: one LightningModule per task, each in its own module (loaded by name)."""
