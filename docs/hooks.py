"""MkDocs hooks: add the generated reference pages to the build (never written to disk),
and render the Sphinx roles in the core's docstrings on the API page."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).parent))

from gen_reference import cli_reference, config_reference

# mkdocstrings renders ":class:`X`" as ":class:<code>X</code>"; the role is noise to a reader.
_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):<code>~?([\w.]+)</code>"
)
_ANCHOR = re.compile(r'id="(ltx_core\.[\w.]+)"')


def on_files(files: Files, config) -> Files:
    for uri, content in (("reference/cli.md", cli_reference()),
                         ("reference/config.md", config_reference())):  # fmt: skip
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_content(html: str, page, config, files) -> str:
    """Each role becomes code, linked when it names one object documented on the page."""
    if ":<code>" not in html:
        return html
    anchors = set(_ANCHOR.findall(html))

    def link(match: re.Match[str]) -> str:
        name = match[1]
        hits = [a for a in anchors if a == name or a.endswith("." + name)]
        code = f"<code>{name.rsplit('.', 1)[-1] if match[0].count('~') else name}</code>"
        return f'<a href="#{hits[0]}">{code}</a>' if len(hits) == 1 else code

    return _ROLE.sub(link, html)
