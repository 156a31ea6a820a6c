"""The ``ltx`` command line: one module per group of subcommands, wired in :mod:`.app`."""
