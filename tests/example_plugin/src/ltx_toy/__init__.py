"""ltx-toy: an ltx task plugin (toy-classify)."""
