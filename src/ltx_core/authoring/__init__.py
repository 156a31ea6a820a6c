"""For plugin authors: ``ltx new plugin|dataset|backbone|command`` (``scaffold`` and its
``templates``) and the conformance kit (``conformance``); ltx's pytest fixtures drive the
command line, so they live with it (:mod:`ltx_core.cli.testing`)."""
