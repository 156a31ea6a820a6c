"""The version of ltx-core, in a module of its own so the registry can read it without
importing the package's public API."""

__version__ = "0.2.0"
