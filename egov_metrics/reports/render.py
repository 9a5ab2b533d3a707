"""Render a report: validate parameters, execute the notebook with papermill (Python API), export one
offline HTML file, write it atomically, and record it in the manifest and `reports/index.html`."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import html
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError

from egov_metrics import __version__
from egov_metrics.config import PROJECT_DIR, REPORTS_DIR
from egov_metrics.errors import EgovError, UnknownNameError
from egov_metrics.reports.engine import WarmKernel
from egov_metrics.reports.kinds import Params, ReportKind, ReportParameterError, get_kind, validate_params
from egov_metrics.schema import connect

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
TEMPLATE_DIR = Path(__file__).parent / "template"
MANIFEST = "manifest.json"

REPORT_CSS = """
body { font-family: 'Segoe UI', Arial, 'DejaVu Sans', sans-serif; }
.egov-header { border-bottom: 2px solid #1f4e79; margin: 0 0 1em; padding: 0.5em 0 0.7em; }
.egov-header h1 { font-size: 1.5em; margin: 0 0 0.3em; color: #1f4e79; }
.egov-header dl { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; margin: 0;
                  font-size: 0.85em; color: #333; }
.egov-header dt { font-weight: 600; }
.egov-header dd { margin: 0; }
.jp-OutputArea-output svg { max-width: 100%; height: auto; }
.jp-OutputPrompt, .jp-InputPrompt { display: none; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; }
  .jp-Cell { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  .egov-noprint { display: none; }
}
"""


class ReportError(EgovError):
    """A report could not be rendered; the message is one line: cell, error, message."""


@dataclass(frozen=True)
class ReportResult:
    kind: str
    path: Path
    params: dict[str, object]
    seconds: float
    size: int
    data_fingerprint: str
    generated_at: str


def data_fingerprint(db_path: str | Path) -> str:
    """A short fingerprint of the data: the demo's recorded fingerprint, else a hash of counts and loads."""
    with connect(db_path, read_only=True) as con:
        meta = dict(con.sql("SELECT key, value FROM meta").fetchall())
        facts = con.sql(
            "SELECT (SELECT count(*) FROM dossier), (SELECT max(received_at) FROM dossier), "
            "(SELECT count(*) FROM feedback), (SELECT coalesce(max(id), 0) FROM ingest_run), "
            "(SELECT count(*) FROM org_unit)"
        ).fetchall()[0]
    base = meta.get("fingerprint", "")
    return hashlib.sha256(f"{base}|{facts}".encode()).hexdigest()[:16]


def _header_html(kind: ReportKind, params: Params, fingerprint: str, generated_at: str) -> str:
    lang = params.lang
    title = kind.title_vi if lang == "vi" else kind.title_en
    labels = {
        "vi": ("Tham số", "Dấu vân tay dữ liệu", "Thời điểm tạo", "Phiên bản phần mềm"),
        "en": ("Parameters", "Data fingerprint", "Generated at", "Software version"),
    }[lang]
    shown = {k: v for k, v in params.model_dump(mode="json").items() if k != "db_path"}
    shown["db"] = Path(params.db_path).name
    param_text = ", ".join(f"{k} = {'–' if v is None else v}" for k, v in shown.items())  # unit None: –
    rows = zip(labels, (param_text, fingerprint, generated_at, f"egov-metrics {__version__}"), strict=True)
    items = "".join(f"<dt>{html.escape(a)}</dt><dd>{html.escape(str(b))}</dd>" for a, b in rows)
    return f'<header class="egov-header"><h1>{html.escape(title)}</h1><dl>{items}</dl></header>'


def _one_line(exc: PapermillExecutionError) -> str:
    evalue = " ".join(str(exc.evalue).split())
    return f"cell {exc.exec_count or exc.cell_index}: {exc.ename}: {evalue}"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_html(
    notebook: nbformat.NotebookNode, kind: ReportKind, params: Params, fingerprint: str, generated_at: str
) -> str:
    """One self-contained HTML page: no code, no prompts, no network resource."""
    exporter = HTMLExporter(
        template_name="offline",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_markdown=True,  # markdown cells are notes for planners; headings come from the library
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=params.lang,  # the exporter writes its own trait into resources: set it here
    )
    resources = {
        "metadata": {"name": kind.title_vi if params.lang == "vi" else kind.title_en},
        "egov": {"css": REPORT_CSS, "header_html": _header_html(kind, params, fingerprint, generated_at)},
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body


def render_report(
    kind_name: str,
    params: dict[str, object],
    *,
    out_dir: str | Path = REPORTS_DIR,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    kernel: WarmKernel | None = None,
) -> ReportResult:
    """Render one report. Parameters are validated before a kernel starts; a failed run never replaces a
    good report and raises ReportError with one line (cell, error, message). With `kernel` (a batch's
    warm kernel, started in `notebooks_dir`) the notebook runs in it instead of in a new kernel."""
    kind = get_kind(kind_name)
    raw = dict(params)
    raw.setdefault("db_path", str(Path(os.environ.get("EGOV_DB", PROJECT_DIR / "data" / "egov.duckdb"))))
    validated = validate_params(kind, raw)
    validated = _resolve(kind, validated)
    out_dir = Path(out_dir)
    started = time.perf_counter()
    fingerprint = data_fingerprint(validated.db_path)
    generated_at = dt.datetime.now().astimezone().strftime("%d/%m/%Y %H:%M:%S %z")
    notebook_path = Path(notebooks_dir) / kind.notebook
    with tempfile.TemporaryDirectory(prefix="egov-report-") as tmp:
        executed = Path(tmp) / kind.notebook
        parameters = validated.model_dump(mode="json")
        try:
            if kernel is not None:  # a batch: the worker's warm kernel (egov_metrics/reports/engine.py)
                notebook = kernel.execute(notebook_path, executed, parameters)
            else:
                papermill.execute_notebook(
                    str(notebook_path),
                    str(executed),
                    parameters=parameters,
                    kernel_name="python3",
                    progress_bar=False,
                    cwd=str(Path(notebooks_dir)),
                )
                notebook = nbformat.read(executed, as_version=4)
        except PapermillExecutionError as exc:
            raise ReportError(
                f"{kind.name} failed: {_one_line(exc)}", "nothing was written; fix the cause and re-run"
            ) from None
    page = export_html(notebook, kind, validated, fingerprint, generated_at)
    path = out_dir / f"{kind.output_stem(validated)}.html"
    _atomic_write(path, page.encode("utf-8"))
    result = ReportResult(
        kind=kind.name,
        path=path,
        params={k: v for k, v in validated.model_dump(mode="json").items() if k != "db_path"},
        seconds=round(time.perf_counter() - started, 2),
        size=path.stat().st_size,
        data_fingerprint=fingerprint,
        generated_at=generated_at,
    )
    record(result, out_dir)
    return result


def _resolve(kind: ReportKind, params: Params) -> Params:
    """Check values against the database (unit exists, period has data) before any kernel starts."""
    from egov_metrics.orgunits import resolve_unit
    from egov_metrics.reports.common import latest_period, month_bounds

    updates: dict[str, object] = {}
    with connect(params.db_path, read_only=True) as con:
        unit = getattr(params, "unit", None)
        if unit is not None:
            try:
                unit_id = resolve_unit(con, unit)
            except UnknownNameError as exc:
                raise ReportParameterError(
                    f"{kind.name}: parameter 'unit': {exc.message}", exc.hint
                ) from None
            level = con.sql("SELECT level FROM org_unit WHERE id = ?", params=[unit_id]).fetchall()[0][0]
            if kind.unit_levels and level not in kind.unit_levels:
                raise ReportParameterError(
                    f"{kind.name}: parameter 'unit': {unit_id} is a {level}",
                    f"{kind.name} takes a unit of level {' or '.join(kind.unit_levels)}",
                )
            updates["unit"] = unit_id
        first_day, last_day = con.sql(
            "SELECT min(CAST(received_at AS DATE)), max(CAST(received_at AS DATE)) FROM dossier"
        ).fetchall()[0]
        if last_day is None:
            raise ReportError(
                f"{params.db_path} holds no dossiers", "build the demo or ingest an export first"
            )
        if "period" in kind.params.model_fields:
            period = getattr(params, "period", None) or latest_period(con)
            if not (first_day <= month_bounds(period)[1] and month_bounds(period)[0] <= last_day):
                raise ReportError(
                    f"period {period} is outside the data ({first_day:%m/%Y}–{last_day:%m/%Y})",
                    f"pick a month between {first_day:%Y-%m} and {last_day:%Y-%m}",
                )
            updates["period"] = period
        if "as_of" in kind.params.model_fields:
            as_of = getattr(params, "as_of", None) or last_day
            if not first_day <= as_of <= last_day:
                raise ReportError(
                    f"as_of {as_of} is outside the data ({first_day}–{last_day})",
                    f"pick a date between {first_day} and {last_day}",
                )
            updates["as_of"] = as_of
        if "phase" in kind.params.model_fields:
            from egov_metrics.roadmap import load_roadmap

            roadmap = load_roadmap()
            phases = [p.id for p in roadmap.phases]
            phase = getattr(params, "phase", None)
            if phase is None:
                day = updates.get("as_of") or last_day
                phase = (roadmap.phase_at(day) or min(roadmap.phases, key=lambda p: p.start)).id
            elif phase not in phases:
                close = UnknownNameError.from_choices("roadmap phase", phase, phases)
                raise ReportParameterError(f"{kind.name}: parameter 'phase': {close.message}", close.hint)
            updates["phase"] = phase
    return params.model_copy(update=updates) if updates else params


# -- manifest and index ---------------------------------------------------------------------------------


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_manifest(out_dir: str | Path = REPORTS_DIR) -> list[dict[str, object]]:
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["reports"]


def record(result: ReportResult, out_dir: Path) -> None:
    """Add or replace the report's entry in manifest.json and rewrite index.html (both atomically)."""
    entry = {**asdict(result), "path": result.path.name}
    with _locked(out_dir):
        reports = [r for r in read_manifest(out_dir) if r["path"] != entry["path"]]
        reports.append(entry)
        reports.sort(key=lambda r: (str(r["kind"]), str(r["path"])))
        manifest = {"generated_by": f"egov-metrics {__version__}", "reports": reports}
        _atomic_write(out_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        _atomic_write(out_dir / "index.html", index_html(reports).encode("utf-8"))


def index_html(reports: list[dict[str, object]]) -> str:
    """The Vietnamese index page listing every report by kind, unit and period."""
    from egov_metrics.reports.kinds import REPORT_KINDS

    sections = []
    for name, kind in REPORT_KINDS.items():
        rows = [r for r in reports if r["kind"] == name]
        if not rows:
            continue
        body = "".join(
            '<tr><td>{unit}</td><td>{period}</td><td>{lang}</td><td><a href="{href}">{href}</a></td>'
            "<td>{when}</td><td>{size}</td></tr>".format(
                unit=html.escape(str(r["params"].get("unit") or "Toàn tỉnh")),
                period=html.escape(str(r["params"].get("period") or r["params"].get("as_of") or "")),
                lang=html.escape(str(r["params"].get("lang"))),
                href=html.escape(str(r["path"])),
                when=html.escape(str(r["generated_at"])),
                size=f"{int(r['size']) / 1024:,.0f} KB".replace(",", "."),
            )
            for r in rows
        )
        sections.append(
            f"<h2>{html.escape(kind.title_vi)}</h2><table><thead><tr><th>Đơn vị</th><th>Kỳ</th><th>Ngôn ngữ</th>"
            f"<th>Tệp</th><th>Thời điểm tạo</th><th>Dung lượng</th></tr></thead><tbody>{body}</tbody></table>"
        )
    content = "".join(sections) or "<p>Chưa có báo cáo nào.</p>"
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>Danh mục báo cáo · egov-metrics</title>
<style>body{{font-family:'Segoe UI',Arial,'DejaVu Sans',sans-serif;margin:2em;color:#222}}
h1{{color:#1f4e79}}table{{border-collapse:collapse;margin-bottom:1.5em}}
th,td{{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left}}th{{background:#eef3f8}}</style></head>
<body><h1>Danh mục báo cáo chính quyền điện tử</h1>
<p>Máy đọc được: <a href="{MANIFEST}">{MANIFEST}</a> · egov-metrics {__version__}</p>
{content}</body></html>"""
