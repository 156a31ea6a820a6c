"""MkDocs hook: add the generated reference pages to the build (never written to disk)."""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).parent))

from gen_reference import cli_reference, config_reference


def on_files(files: Files, config) -> Files:
    for uri, content in (("reference/cli.md", cli_reference()),
                         ("reference/config.md", config_reference())):  # fmt: skip
        files.append(File.generated(config, uri, content=content))
    return files
