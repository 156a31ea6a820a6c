"""For plugin authors: ``ltx new plugin`` (``scaffold`` and its ``templates``) and the
conformance kit (``conformance``); ltx's pytest fixtures, which drive the CLI, are the
layer above it (:mod:`ltx_core.pytest_plugin`)."""
