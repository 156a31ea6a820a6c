"""ltx-sweep: ``ltx sweep``, Optuna over an ltx task's config.

``plugin`` registers the command (torch- and Optuna-free), ``command`` is its Typer
front, ``study`` runs a sweep, ``space`` reads the search space, ``pruning`` stops bad
trials, ``report`` writes the tables and plots, ``trials`` holds what they share.
"""

__version__ = "0.2.0"
