"""ltx-acme-sums: an ltx task plugin (acme-sums-classify)."""
