"""For plugin authors: ``ltx new plugin`` (``scaffold`` and its ``templates``) and the
conformance kit (``conformance``); ltx's pytest fixtures drive the command line, so they
live with it (:mod:`ltx_core.cli.testing`)."""
