"""Every method file shipped in `egov_metrics/methods/` is selected from its own `valid_from` on.

Read from the files themselves (plain YAML, not the scoring package), so a new method version needs no test
edit here: its first day selects it, the day before selects another one (an earlier method), and a method
named in another's `replaces` is never selected. The selection rules themselves are tested on a fixed set of
files in test_scoring_methods.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov_metrics.scoring import method_for

FOLDER = Path(__file__).resolve().parents[1] / "egov_metrics" / "methods"


def _day(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _shipped() -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(FOLDER.glob("*.yaml"))}


SHIPPED = _shipped()
REPLACED = {old for data in SHIPPED.values() for old in data.get("replaces") or []}
CURRENT = sorted(name for name in SHIPPED if name not in REPLACED)


def test_there_is_a_current_method() -> None:
    assert CURRENT, f"every method in {FOLDER} is replaced by another"


@pytest.mark.parametrize("name", CURRENT)
def test_a_current_method_is_selected_from_its_valid_from(name: str) -> None:
    first = _day(SHIPPED[name]["valid_from"])
    assert method_for(first).id == name
    earlier = [n for n in CURRENT if _day(SHIPPED[n]["valid_from"]) < first]
    if earlier:  # the day before its first day belongs to an earlier method
        assert method_for(first - dt.timedelta(days=1)).id in earlier


@pytest.mark.parametrize("name", sorted(REPLACED))
def test_a_replaced_method_is_never_selected(name: str) -> None:
    first = _day(SHIPPED[name]["valid_from"])
    assert method_for(first).id != name
