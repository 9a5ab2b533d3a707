"""jsonschema's optional IRI grammar is not imported by a report's imports, and nothing else changes."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_report_imports_skip_the_iri_grammar() -> None:
    found = _run(
        "import json, sys\n"
        "import egov_metrics\n"
        "from egov_metrics.reports import render\n"
        "import jsonschema\n"
        "print(json.dumps({'grammar': 'rfc3987_syntax' in sys.modules,"
        " 'iri': 'iri' in jsonschema.FormatChecker().checkers,"
        " 'email': 'email' in jsonschema.FormatChecker().checkers}))"
    )
    # the grammar is not loaded; jsonschema drops only the two checkers that need it
    assert found == {"grammar": False, "iri": False, "email": True}


@pytest.mark.slow
def test_the_package_itself_still_imports_when_asked_for() -> None:
    pytest.importorskip("rfc3987_syntax")  # optional: installed by jsonschema[format-nongpl]
    found = _run(
        "import json, egov_metrics, jsonschema, nbformat\n"
        "import rfc3987_syntax\n"
        "print(json.dumps({'valid': rfc3987_syntax.is_valid_syntax('iri', 'https://example.org/a'),"
        " 'invalid': rfc3987_syntax.is_valid_syntax('iri', 'not an iri')}))"
    )
    assert found == {"valid": True, "invalid": False}


def test_notebooks_are_still_validated() -> None:
    good = nbformat.v4.new_notebook()
    good.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.validate(good)
    bad = nbformat.from_dict(json.loads(nbformat.writes(good)))
    bad.cells[0]["cell_type"] = "no such type"
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(bad)


def test_the_command_line_does_not_import_the_ingest_machinery_to_start() -> None:
    """Building the command line reads the ingest kinds for KIND's help; that must not import the loader, the
    readers or openpyxl (they cost ~0.5 s on every command). The package's public names still work."""
    found = _run(
        "import json, sys\n"
        "from typer.main import get_command\n"
        "from egov_metrics.cli import app\n"
        "get_command(app)\n"
        "heavy = sorted(m for m in ('egov_metrics.ingest.load', 'egov_metrics.ingest.readers', 'openpyxl')"
        " if m in sys.modules)\n"
        "import egov_metrics.ingest as ingest\n"
        "print(json.dumps({'heavy': heavy, 'kinds': 'dossier' in ingest.kind_names(),"
        " 'loader': ingest.ingest_file.__module__, 'all': all(hasattr(ingest, n) for n in ingest.__all__)}))"
    )
    assert found == {"heavy": [], "kinds": True, "loader": "egov_metrics.ingest.load", "all": True}


def test_writing_a_file_atomically_does_not_import_openpyxl() -> None:
    """The fingerprint's store writes through `export.atomic_write` in every report; openpyxl (~55 ms) is
    imported only when a workbook is written."""
    found = _run(
        "import json, sys, tempfile, pathlib\n"
        "from egov_metrics.export import atomic_write, write_frame\n"
        "import polars as pl\n"
        "folder = pathlib.Path(tempfile.mkdtemp())\n"
        "atomic_write(folder / 'a.txt', lambda tmp: tmp.write_bytes(b'x'))\n"
        "before = 'openpyxl' in sys.modules\n"
        "write_frame(pl.DataFrame({'a': [1]}), folder / 'a.xlsx')\n"
        "print(json.dumps({'before': before, 'after': 'openpyxl' in sys.modules,"
        " 'xlsx': (folder / 'a.xlsx').stat().st_size > 0}))"
    )
    assert found == {"before": False, "after": True, "xlsx": True}
