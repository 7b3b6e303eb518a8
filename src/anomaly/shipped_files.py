"""Where the files the package ships are: the data contracts and the rule pages.

The project's layout keeps them at the top of the repository
(``data_contracts/``, ``docs/rules/``). A wheel carries them inside the
package, as ``anomaly/shipped/data_contracts`` and ``anomaly/shipped/rule_pages``
(``pyproject.toml`` maps the folders there). An installed package finds them
there; a checkout, or an editable install, finds them where they are kept.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parents[1]
FOLDERS = {"data_contracts": "data_contracts", "rule_pages": "docs/rules"}


def shipped_folder(name: str) -> Path:
    """The folder of shipped files ``name`` (``data_contracts`` or ``rule_pages``)."""
    installed = PACKAGE / "shipped" / name
    return installed if installed.is_dir() else CHECKOUT / FOLDERS[name]
