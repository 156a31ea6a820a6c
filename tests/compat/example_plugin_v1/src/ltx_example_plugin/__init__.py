"""A tiny third-party ltx plugin: Gaussian blobs, an MLP and a classifier."""
