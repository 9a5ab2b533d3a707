"""Render a report: validate parameters, execute the notebook with papermill (Python API), export one
offline HTML file, write it atomically, and record it in the manifest and `reports/index.html`."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import html
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import nbformat
import papermill
from jinja2 import FileSystemBytecodeCache
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from papermill.exceptions import PapermillExecutionError

from egov_metrics import __version__, fingerprint
from egov_metrics import cache as compute_cache
from egov_metrics.config import PACKAGE_DIR, PROJECT_DIR, REPORTS_DIR, user_cache_dir
from egov_metrics.reports import engine as warm_engine
from egov_metrics.reports.engine import KERNEL_ARGUMENTS, WarmKernel
from egov_metrics.reports.frontpage import VIETNAM_TIME, cached_facts, index_html
from egov_metrics.reports.inprocess import ENGINE_NAME as INPROCESS_ENGINE
from egov_metrics.reports.kinds import (
    Params,
    ReportError,
    ReportKind,
    get_kind,
    validate_params,
)
from egov_metrics.schema import connect

NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
TEMPLATE_DIR = Path(__file__).parent / "template"
MANIFEST = "manifest.json"
#: A single report (no warm kernel given) runs its notebook in this process (see reports/inprocess.py).
IN_PROCESS = True

REPORT_CSS = """
body { font-family: 'Segoe UI', Arial, 'DejaVu Sans', sans-serif; }
.egov-footer { border-top: 2px solid #1f4e79; margin: 2em 0 0; padding: 0.5em 0 0.7em; color: #333;
                font-size: 0.85em; }
.egov-footer h2 { font-size: 1.1em; margin: 0 0 0.3em; color: #1f4e79; }
.egov-footer dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.1em 1em; margin: 0; }
.egov-footer dt { font-weight: 600; }
.egov-footer dd { margin: 0; overflow-wrap: anywhere; }
.jp-OutputArea-output svg { max-width: 100%; height: auto; }
.jp-OutputPrompt, .jp-InputPrompt { display: none; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; }
  .jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea-child { margin: 0; padding: 0; }
  .jp-Cell { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  .egov-noprint { display: none; }
}
"""


@dataclass(frozen=True)
class ReportResult:
    kind: str
    path: Path
    params: dict[str, object]
    seconds: float
    size: int
    data_fingerprint: str
    generated_at: str
    data_view: str = ""  # the fingerprint of the data up to the report's horizon (see view_fingerprint)
    definitions: str = ""  # what the report was made with besides its data (see definitions_fingerprint)


def data_fingerprint(db_path: str | Path, store: str | Path | None = None) -> str:
    """A short fingerprint of all the data in the file (`egov_metrics.fingerprint`: every table a report
    reads; the compute cache uses the same one). `store`: a folder keeping it for the next process."""
    with connect(db_path, read_only=True) as con:
        return fingerprint.data_fingerprint(con, store)


#: Package entries that do not change what a report shows: the job list, the demo's generator and data.
NOT_DEFINITIONS = frozenset({"schedule_data", "demo_data", "demo_sql", "demo.py"})


def _is_definition(path: Path) -> bool:
    """Whether a file of the package is part of the definitions (not a job list, demo material, hidden file,
    notebook checkpoint or editor's swap file)."""
    parts = path.relative_to(PACKAGE_DIR).parts
    return not (
        parts[0] in NOT_DEFINITIONS
        or any(p.startswith(".") or p == "__pycache__" for p in parts)
        or path.name.endswith(("~", ".swp"))
    )


def _package_state() -> tuple[tuple[str, int, int], ...]:
    """The package's definition files by path, size and modification time."""
    files = (f for f in sorted(PACKAGE_DIR.rglob("*")) if f.is_file() and _is_definition(f))
    return tuple((str(f), st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()])


#: The package's definition files as this process loaded them: its code at import, and the shipped catalog,
#: which it reads once (an edit made afterwards is not what this process's reports show).
_LOADED = _package_state()
#: The package's digest per state of its files: hashed again only when a file changed.
_PACKAGE_DIGESTS: dict[tuple[tuple[str, int, int], ...], str] = {}


def definitions_fingerprint() -> str:
    """A short fingerprint of what a report is made with besides its data: the package's files (its code,
    the indicator catalog, the roadmap, the scoring methods, the vocabulary, the page templates; not the job
    list nor the demo's material) and the planner's own roadmap and indicators (`$EGOV_USER_DIR`), which are
    read again when they change. Recorded in the manifest with the data's view, taken before the notebook
    runs: a scheduled run re-renders a report made with other definitions (a planner's edit of an indicator
    or a target, a new version), not only one whose data changed (`egov_metrics.schedule`).

    When a package file changed after this process loaded the package, its reports may show the older
    definitions: the fingerprint is then marked (`edited:`), so that no later run takes them as made with
    the new ones. The notebooks are left out: they only call the package (and a report kind's notebook may
    live in a folder of its own)."""
    from egov_metrics.catalog.model import user_catalog_dir
    from egov_metrics.roadmap.model import user_roadmap

    state = _package_state()
    package = _PACKAGE_DIGESTS.get(state)
    if package is None:
        package = _PACKAGE_DIGESTS[state] = compute_cache.files_digest([PACKAGE_DIR], _is_definition)
    folder = user_catalog_dir()
    planner = [
        *([roadmap] if (roadmap := user_roadmap()) is not None else []),
        *(sorted(folder.glob("*.yaml")) if folder is not None and folder.is_dir() else []),
    ]
    own = compute_cache.files_digest(planner) if planner else ""
    return f"{'' if state == _LOADED else 'edited:'}{package}{own}"


def view_fingerprint(
    db_path: str | Path, kind: ReportKind, params: dict[str, object], store: str | Path | None = None
) -> str:
    """The fingerprint of the data a report with these parameters reads (up to its horizon, as the `kind`
    says: `ReportKind.horizon`): recorded in the manifest, compared by the scheduler to re-render exactly the
    reports whose data changed."""
    with connect(db_path, read_only=True) as con:
        return fingerprint.view_fingerprint(con, kind.horizon(params), store)


#: Labels of the parameters every report has, per language; a kind's parameters are labelled by its
#: parameter mixins and the kind itself (`ReportKind.labels`).
PARAM_LABELS = {
    "vi": {"lang": "Ngôn ngữ", "db": "Tệp dữ liệu"},
    "en": {"lang": "Language", "db": "Data file"},
}
LANG_NAMES = {"vi": {"vi": "tiếng Việt", "en": "tiếng Anh"}, "en": {"vi": "Vietnamese", "en": "English"}}


def generation_stamp(moment: dt.datetime) -> str:
    """When a report was made, in Vietnam's time as the landing page lists it ('05/12/2026 06:24:35 +0700'):
    the machine's own zone (UTC on a server) gave the page a time, and at night a date, that the index
    contradicted ('04/12/2026 23:24:35 +0000' on the page, '05/12/2026 06:24' on the index)."""
    return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M:%S %z")


def _footer_html(kind: ReportKind, params: Params, fingerprint: str, generated_at: str) -> str:
    """The technical block at the end of the page ("Thông tin kỹ thuật"): parameters, data fingerprint, time
    of generation and software version, every label in the report's language."""
    lang = params.lang
    title = "Thông tin kỹ thuật" if lang == "vi" else "Technical information"
    labels = {
        "vi": ("Báo cáo", "Tham số", "Dấu vân tay dữ liệu", "Thời điểm tạo", "Phiên bản phần mềm"),
        "en": ("Report", "Parameters", "Data fingerprint", "Generated at", "Software version"),
    }[lang]
    dumped = {k: v for k, v in params.model_dump(mode="json").items() if k != "db_path"}
    shown = kind.params.shown(dumped, lang)  # the kind's parameters as a reader sees them
    unit = dumped.get("unit")
    if unit:  # the unit by its name, as the page names it, with its id: 'Sở Tư pháp (STP)', not 'STP'
        name = _unit_name(params.db_path, str(unit), lang)
        shown["unit"] = f"{name} ({unit})" if name else unit
    shown["db"] = Path(params.db_path).name
    shown["lang"] = LANG_NAMES[lang].get(str(shown["lang"]), shown["lang"])
    names = {**PARAM_LABELS[lang], **kind.labels(lang)}
    param_text = "; ".join(_labelled(names.get(k, k), v) for k, v in shown.items())
    report_title = kind.title_vi if lang == "vi" else kind.title_en
    values = (report_title, param_text, fingerprint, generated_at, f"egov-metrics {__version__}")
    items = "".join(
        f"<dt>{html.escape(a)}</dt><dd>{html.escape(str(b))}</dd>"
        for a, b in zip(labels, values, strict=True)
    )
    return f'<footer class="egov-footer"><h2>{html.escape(title)}</h2><dl>{items}</dl></footer>'


def _unit_name(db_path: str | Path, unit_id: str, lang: str) -> str | None:
    """The unit's name in `lang` (its Vietnamese one when it has no English one); None if it cannot be read."""
    try:
        with connect(db_path, read_only=True) as con:
            rows = con.sql("SELECT name_vi, name_en FROM org_unit WHERE id = ?", params=[unit_id]).fetchall()
    except Exception:  # the footer never fails a report: the id stands alone
        return None
    if not rows:
        return None
    name_vi, name_en = rows[0]
    return str(name_en or name_vi) if lang == "en" else str(name_vi)


def _labelled(label: str, value: object) -> str:
    """'Đơn vị: Sở Tư pháp'; a value that starts with its label stands alone ('Giai đoạn 2021–2025', not
    'Giai đoạn: Giai đoạn 2021–2025')."""
    text = "–" if value is None else str(value)
    return text if text.casefold().startswith(label.casefold() + " ") else f"{label}: {text}"


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


#: The start tag of an output area: `<div … class="… jp-OutputArea-output …" …>` as the lab template writes it.
_OUTPUT_AREA = re.compile(r'<div\b[^>]*\bclass="(?:[^"]*\s)?jp-OutputArea-output(?:\s[^"]*)?"[^>]*>')
_IMG = re.compile(r"<img\b", re.IGNORECASE)


def _focusable_outputs(page: str) -> str:
    """Every output area focusable (`tabindex="0"`), as nbconvert's HTMLExporter makes them: an output wider or
    taller than the page scrolls, and a keyboard user can only scroll what takes the focus. Our template
    writes no input cells (`exclude_input`), so the input wrappers nbconvert also marks do not occur."""
    return _OUTPUT_AREA.sub(lambda m: m.group(0)[:-1] + ' tabindex="0">', page)


class ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without its second pass over the page.

    `HTMLExporter.from_notebook_node` renders the page, then parses it again with BeautifulSoup only to give
    `<img>` without `alt` a placeholder text and output areas `tabindex="0"`, and writes the parsed tree back
    out (0.2–0.4 s per report, most of an export). Our pages draw charts as inline SVG and hold no `<img>`:
    the output areas get their `tabindex` from `_focusable_outputs` on the rendered text, and the page is
    otherwise the template's output as written. A page that does hold an `<img>` (a notebook showing a PNG)
    takes nbconvert's own path, unchanged.

    An exporter compiles its Jinja templates on first use (~0.16 s): `exporter(lang)` keeps one per thread
    and language (one exporter is not safe to share between the scheduler's worker threads), and the compiled
    templates are kept on disk for the next process (Jinja's own bytecode cache, `template_cache`)."""

    def _create_environment(self) -> Any:
        environment = super()._create_environment()
        environment.bytecode_cache = template_cache()
        return environment

    def from_notebook_node(  # type: ignore[override]
        self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        given = resources
        self._nb_metadata.clear()  # as in a new exporter: no metadata of an earlier notebook
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        data_types = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", data_types)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if _IMG.search(page):  # an image: nbconvert's own pass (alt texts, tabindex) on the rendered page
            return HTMLExporter.from_notebook_node(self, nb, given, **kw)
        return _focusable_outputs(page), resources


def template_cache() -> FileSystemBytecodeCache | None:
    """Jinja's cache of compiled templates in the user's cache folder (`$EGOV_CACHE_DIR/jinja`, default
    `~/.cache/egov-metrics/jinja`): a new process loads the report template's compiled code instead of
    compiling it (~0.15 s of a single report). Jinja keys each entry by the template's name and checks the
    source's checksum, so an edited template is compiled again. None when the folder cannot be made."""
    folder = user_cache_dir() / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: templates are compiled in every process, nothing else changes
        return None
    return FileSystemBytecodeCache(str(folder))


_exporters = threading.local()


def exporter_options(lang: str) -> dict[str, Any]:
    """The options of a report page's exporter: the offline template, no code, no prompts, images embedded."""
    return {
        "template_name": "offline",
        "extra_template_basedirs": [str(TEMPLATE_DIR)],
        "exclude_input": True,
        "exclude_markdown": True,  # markdown cells are notes for planners; headings come from the library
        "exclude_input_prompt": True,
        "exclude_output_prompt": True,
        "embed_images": True,
        "language_code": lang,  # the exporter writes its own trait into resources: set it here
    }


def exporter(lang: str) -> ReportExporter:
    """This thread's exporter for pages in `lang` (created on first use, then reused)."""
    cache: dict[str, ReportExporter] | None = getattr(_exporters, "by_lang", None)
    if cache is None:
        cache = _exporters.by_lang = {}
    found = cache.get(lang)
    if found is None:
        found = cache[lang] = ReportExporter(**exporter_options(lang))
    return found


def export_html(
    notebook: nbformat.NotebookNode, kind: ReportKind, params: Params, fingerprint: str, generated_at: str
) -> str:
    """One self-contained HTML page: no code, no prompts, no network resource."""
    resources = {
        "metadata": {"name": kind.title_vi if params.lang == "vi" else kind.title_en},
        "egov": {"css": REPORT_CSS, "footer_html": _footer_html(kind, params, fingerprint, generated_at)},
    }
    body, _ = exporter(params.lang).from_notebook_node(notebook, resources=resources)
    return body


def _charts_warm_up() -> None:
    """Start vl-convert in the background (`charts.warm_up_in_background`); never fails a report."""
    try:
        from egov_metrics import charts  # the notebook imports it next: importing it first costs nothing more

        charts.warm_up_in_background()
    except Exception:  # the notebook's own import then reports the cause
        return


def _make(
    kind: ReportKind,
    validated: Params,
    out_dir: Path,
    notebooks_dir: Path,
    kernel: WarmKernel | None,
    here: bool,
    started: float,
) -> tuple[ReportResult, dict[str, object] | None]:
    """`render_report`'s work once the parameters are checked: fingerprints, the notebook (in `kernel`, in this
    process if `here`, else in a new kernel), the page written atomically, and the landing page's figures."""
    parameters = validated.model_dump(mode="json")
    # both before the notebook: what it read, not what came later; the compute cache beside the database,
    # shared by every run
    store = compute_cache.store_for(validated.db_path, out_dir)
    whole = data_fingerprint(validated.db_path, store)
    view = view_fingerprint(validated.db_path, kind, parameters, store)
    definitions = definitions_fingerprint()
    generated_at = generation_stamp(dt.datetime.now(dt.UTC))
    notebook_path = notebooks_dir / kind.notebook
    # the executed notebook is only needed for the export: it stays in memory (papermill's output path
    # None: no save after every cell, no file to read back)
    try:
        if kernel is not None:  # a batch: the worker's warm kernel (egov_metrics/reports/engine.py)
            notebook = kernel.execute(notebook_path, None, parameters)
        elif here:
            with compute_cache.enabled(store):
                notebook = papermill.execute_notebook(
                    str(notebook_path),
                    None,
                    parameters=parameters,
                    engine_name=INPROCESS_ENGINE,
                    kernel_name="python3",
                    progress_bar=False,
                    cwd=str(notebooks_dir),
                )
        else:
            notebook = papermill.execute_notebook(
                str(notebook_path),
                None,
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(notebooks_dir),
                extra_arguments=list(KERNEL_ARGUMENTS),
            )
    except PapermillExecutionError as exc:
        raise ReportError(
            f"{kind.name} failed: {_one_line(exc)}", "nothing was written; fix the cause and re-run"
        ) from None
    page = export_html(notebook, kind, validated, whole, generated_at)
    path = out_dir / f"{kind.output_stem(validated)}.html"
    _atomic_write(path, page.encode("utf-8"))
    result = ReportResult(
        kind=kind.name,
        path=path,
        params={k: v for k, v in validated.model_dump(mode="json").items() if k != "db_path"},
        seconds=round(time.perf_counter() - started, 2),
        size=path.stat().st_size,
        data_fingerprint=whole,
        generated_at=generated_at,
        data_view=view,
        definitions=definitions,
    )
    try:  # the landing page's figures: computed once per data fingerprint
        with compute_cache.enabled(store):
            facts = cached_facts(out_dir, validated.db_path, whole)
    except Exception:  # the report is written: without its figures the index lists the reports only
        facts = None
    return result, facts


def render_report(
    kind_name: str,
    params: dict[str, object],
    *,
    out_dir: str | Path = REPORTS_DIR,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    kernel: WarmKernel | None = None,
    in_process: bool | None = None,
) -> ReportResult:
    """Render one report. Parameters are validated before a kernel starts; a failed run never replaces a
    good report and raises ReportError with one line (cell, error, message). With `kernel` (a batch's
    warm kernel, started in `notebooks_dir`) the notebook runs in it; otherwise it runs in this process
    (`reports/inprocess.py`, the default: no kernel start, no second import of the report stack), or in a
    new kernel with `in_process=False` (default: `IN_PROCESS`)."""
    kind = get_kind(kind_name)
    read_manifest(out_dir)  # a damaged manifest refuses the report before its page replaces the one listed
    raw = dict(params)
    raw.setdefault("db_path", str(Path(os.environ.get("EGOV_DB", PROJECT_DIR / "data" / "egov.duckdb"))))
    # the kernel runs in the notebooks folder: a relative path is made absolute from the caller's directory
    raw["db_path"] = str(Path(str(raw["db_path"])).expanduser().absolute())
    validated = validate_params(kind, raw)
    validated = kind.resolve_in(validated)  # the kind's database checks and defaults
    # the notebook runs in the notebooks folder: a relative out folder (and its compute cache) is made absolute
    out_dir = Path(out_dir).expanduser().absolute()
    started = time.perf_counter()
    here = kernel is None and (IN_PROCESS if in_process is None else in_process)  # the notebook runs here
    if here and warm_engine.WARM_UP_CHARTS:  # off by default: see its comment
        _charts_warm_up()  # vl-convert's engine starts beside the fingerprint and the queries
    # in this process: one database instance, one version of the file, for the whole report
    with fingerprint.one_version(validated.db_path) if here else contextlib.nullcontext():
        result, facts = _make(kind, validated, out_dir, Path(notebooks_dir), kernel, here, started)
    record(result, out_dir, facts)
    return result


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


def refresh_index(out_dir: str | Path, facts: dict[str, object] | None) -> None:
    """Rewrite index.html from the manifest (after the alerts page appeared, or with new figures)."""
    out_dir = Path(out_dir)
    with _locked(out_dir):
        alerts = (out_dir / "alerts.html").is_file()
        page = index_html(_on_disk(out_dir, read_manifest(out_dir)), facts, "alerts.html" if alerts else None)
        _atomic_write(out_dir / "index.html", page.encode("utf-8"))


def _on_disk(out_dir: Path, reports: list[ManifestEntry]) -> list[ManifestEntry]:
    """The recorded reports whose page is in the folder: the landing page links to no page that was deleted
    (to have it made again) and whose new render failed."""
    return [r for r in reports if (out_dir / r["path"]).is_file()]


class ManifestEntry(TypedDict):
    """One report in reports/manifest.json: a `ReportResult` with `path` as the file's name."""

    kind: str
    path: str
    params: dict[str, object]
    seconds: float
    size: int
    data_fingerprint: str
    generated_at: str
    data_view: NotRequired[str]  # missing in manifests written before it existed
    definitions: NotRequired[str]  # the same


def read_manifest(out_dir: str | Path = REPORTS_DIR) -> list[ManifestEntry]:
    """The reports recorded in `<out_dir>/manifest.json` ([] without one). A damaged file (cut short, edited
    by hand) raises ReportError naming it and how to start again, before anything is written."""
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return []
    try:
        reports = json.loads(path.read_text(encoding="utf-8"))["reports"]
        if not isinstance(reports, list) or not all(
            isinstance(r, dict) and {"kind", "path", "params"} <= r.keys() for r in reports
        ):
            raise ValueError("an entry without kind, path or params")
    except (ValueError, KeyError, TypeError) as exc:
        raise ReportError(
            f"{path} is damaged ({type(exc).__name__}: {exc})",
            f"move it aside (mv {path} {path}.bad): the next `egov-metrics schedule run` renders the reports "
            "again and writes a new one",
        ) from None
    return reports


def record(result: ReportResult, out_dir: Path, facts: dict[str, object] | None = None) -> None:
    """Add or replace the report's entry in manifest.json and rewrite index.html (both atomically).

    `facts`: the landing page's figures (`frontpage.front_page_facts`); without them the index lists the
    reports only."""
    entry = ManifestEntry(
        kind=result.kind,
        path=result.path.name,
        params=result.params,
        seconds=result.seconds,
        size=result.size,
        data_fingerprint=result.data_fingerprint,
        generated_at=result.generated_at,
        data_view=result.data_view,
        definitions=result.definitions,
    )
    with _locked(out_dir):
        reports = [r for r in read_manifest(out_dir) if r["path"] != entry["path"]]
        reports.append(entry)
        reports.sort(key=lambda r: (str(r["kind"]), str(r["path"])))
        manifest = {"generated_by": f"egov-metrics {__version__}", "reports": reports}
        _atomic_write(out_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
        alerts = (out_dir / "alerts.html").is_file()
        page = index_html(_on_disk(out_dir, reports), facts, "alerts.html" if alerts else None)
        _atomic_write(out_dir / "index.html", page.encode("utf-8"))
