"""For plugin authors: ``ltx new plugin`` (``scaffold`` and its ``templates``), the
conformance kit (``conformance``) and ltx's pytest fixtures (``pytest_plugin``)."""
