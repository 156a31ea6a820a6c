"""Run directories: the layout a run writes (``layout``), and reading runs back for
``ltx runs`` (``listing``) and ``ltx compare`` (``compare``). Torch-free."""
