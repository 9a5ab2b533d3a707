"""One vocabulary: every list has Vietnamese and English labels, the Literals of the models are the
vocabulary's, and no other module keeps its own copy of a list or of a status or light label."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import pytest

from egov_metrics import vocab
from egov_metrics.catalog import load_catalog
from egov_metrics.catalog.model import Indicator
from egov_metrics.ingest.kinds import KINDS
from egov_metrics.model import FrozenModel
from egov_metrics.roadmap.model import Band, Component, TargetSet
from egov_metrics.roadmap.status import TargetCheck
from egov_metrics.scoring import latest_method

PACKAGE = Path(vocab.__file__).parent


def _all_lists() -> dict[str, dict[str, vocab.Term]]:
    return {**{k: dict(v) for k, v in vocab.VOCABULARY.items()}, "group_766": vocab.groups_766()}


@pytest.mark.parametrize("name", sorted(_all_lists()))
def test_every_entry_has_a_vietnamese_and_an_english_label(name: str) -> None:
    terms = _all_lists()[name]
    assert terms, f"{name} is empty"
    for code, term in terms.items():
        assert term.code == code
        for lang in ("vi", "en"):
            for form in (term.name, term.short, term.plural):
                assert form(lang).strip(), f"{name}.{code} has no {lang} label"
        assert term.vi != term.en or term.vi.isupper(), (
            f"{name}.{code}: the Vietnamese label is the English one"
        )


def test_the_literals_are_the_lists() -> None:
    assert get_args(vocab.UnitLevel) == vocab.LEVELS == tuple(vocab.UNIT_LEVELS)
    assert get_args(vocab.TargetStatus) == tuple(vocab.STATUSES)
    assert get_args(vocab.Light) == tuple(vocab.LIGHTS)
    assert get_args(vocab.ComponentStatus) == tuple(vocab.COMPONENT_STATUSES)
    assert get_args(vocab.Channel) == tuple(vocab.CHANNELS)
    assert set(vocab.STATUS_LIGHTS) == set(vocab.STATUSES)
    assert {light for light in vocab.STATUS_LIGHTS.values() if light} == set(vocab.LIGHTS)
    assert list(vocab.LIGHT_RANK) == list(vocab.LIGHTS)


def test_the_models_validate_against_the_vocabulary() -> None:
    assert TargetSet.model_fields["level"].annotation is vocab.UnitLevel
    assert Band.model_fields["light"].annotation is vocab.Light
    assert Component.model_fields["status"].annotation is vocab.ComponentStatus
    assert TargetCheck.__annotations__["status"] in ("Status", "TargetStatus", vocab.TargetStatus)
    choices = {(kind.name, c.name): c.choices for kind in KINDS.values() for c in kind.columns if c.choices}
    assert choices[("dossier", "channel")] == tuple(vocab.CHANNELS)
    assert choices[("dossier", "status")] == tuple(vocab.DOSSIER_STATUSES)
    assert choices[("dossier", "rating")] == tuple(vocab.RATINGS)
    assert choices[("unit", "level")] == vocab.LEVELS
    assert choices[("procedure", "level")] == tuple(vocab.PROCEDURE_LEVELS)
    assert choices[("data_exchange", "platform")] == tuple(vocab.PLATFORMS)


def test_the_766_groups_are_the_methods() -> None:
    method = latest_method()
    groups = vocab.groups_766()
    assert list(groups) == [g.id for g in method.groups]
    assert {g: (t.vi, t.en) for g, t in groups.items()} == {
        g.id: (g.name_vi, g.name_en) for g in method.groups
    }
    # the catalog's 766 group is the method's: a scored indicator sits in its method group, an unscored one
    # (processing_days_mean, shown, not scored) in none, and a catalog file may not set a group of its own
    catalog = load_catalog()
    scored = {i.id: i.group for i in method.indicators if i.id in catalog}
    assert scored and {k: catalog.get(k).group_766 for k in scored} == scored
    assert catalog.get("processing_days_mean").group_766 is None
    with pytest.raises(ValueError, match="group_766 is not set in the catalog"):
        Indicator.model_validate({"group_766": "speed"})


def _string_lists(tree: ast.AST) -> list[tuple[int, set[str]]]:
    """Every tuple, list or set literal (a Literal[...] included) made of two or more strings."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Tuple, ast.List, ast.Set))
            and len(node.elts) >= 2
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts)
        ):
            found.append((node.lineno, {e.value for e in node.elts if isinstance(e, ast.Constant)}))
    return found


def _modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if p.name != "vocab.py"]


def test_no_module_keeps_a_copy_of_a_list() -> None:
    lists = {name: set(terms) for name, terms in _all_lists().items()}
    copies = [
        f"{path.relative_to(PACKAGE)}:{line}: a copy of vocab's {name}"
        for path in _modules()
        for line, values in _string_lists(ast.parse(path.read_text(encoding="utf-8")))
        for name, codes in lists.items()
        if values == codes
    ]
    assert copies == []


def test_no_module_spells_a_status_or_light_label() -> None:
    labels = {
        label: name
        for name in ("target_status", "light")
        for term in vocab.VOCABULARY[name].values()
        for label in (term.vi, term.en, term.vi.lower())
        if label != term.vi.lower() or len(label) > 4  # "đạt" alone is the verb "reached", not a label
    }
    spelt = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r} is vocab's {labels[node.value]} label"
        for path in _modules()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in labels
    ]
    assert spelt == []


def test_the_one_frozen_base() -> None:
    assert vocab.Term.model_config["frozen"] and vocab.Term.model_config["extra"] == "forbid"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in _modules() if p.name != "model.py")
    assert "frozen=True, extra=" not in sources  # every definition model derives from model.FrozenModel
    assert issubclass(Indicator, FrozenModel) and issubclass(TargetSet, FrozenModel)
