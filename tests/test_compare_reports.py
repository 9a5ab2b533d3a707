"""bench/compare_reports.py: two folders of reports match when they differ only in times of generation,
durations, fingerprints and papermill's random cell id; any other difference, or a file on one side only, is exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "compare_reports.py"

FOOTER = (
    '<footer class="egov-footer"><dl><dt>Tham số</dt><dd>Kỳ báo cáo: {period}</dd>'
    "<dt>Dấu vân tay dữ liệu</dt><dd>{fingerprint}</dd><dt>Thời điểm tạo</dt><dd>{time}</dd></dl></footer>"
)


def _folder(root: Path, *, period: str, fingerprint: str, time: str, seconds: float) -> Path:
    root.mkdir()
    cell = f"{int(seconds * 1e7):08x}"[:8]  # papermill's injected cell: a random id each run
    page = f'<div class="celltag_injected-parameters" id="cell-id={cell}"></div>'
    page += f"<p>Tỷ lệ trực tuyến 61,3 %</p>\n{FOOTER.format(period=period, fingerprint=fingerprint, time=time)}\n"
    (root / "progress_report_2026-10_vi.html").write_text(page, encoding="utf-8")
    entry = {"kind": "progress_report", "path": "progress_report_2026-10_vi.html", "params": {"period": period},
             "seconds": seconds, "data_fingerprint": fingerprint, "generated_at": time}  # fmt: skip
    (root / "manifest.json").write_text(json.dumps({"reports": [entry]}), encoding="utf-8")
    log = f"{time}\tok\tprogress_report\tperiod={period}\t{seconds:.1f}s\n"
    (root / "schedule.log").write_text(log, encoding="utf-8")
    (root / ".schedule.lock").write_text(json.dumps({"pid": int(seconds * 10)}), encoding="utf-8")
    return root


def _compare(a: Path, b: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(a), str(b)], capture_output=True, text=True, check=False, timeout=60
    )


def test_only_volatile_parts_differ(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", period="2026-10", fingerprint="0123456789abcdef", time="03/12/2026 12:36:59 +0000",
                seconds=4.2)  # fmt: skip
    b = _folder(tmp_path / "b", period="2026-10", fingerprint="fedcba9876543210", time="04/12/2026 08:01:02 +0700",
                seconds=3.9)  # fmt: skip
    done = _compare(a, b)
    assert done.returncode == 0, done.stdout
    assert "3 file(s) compared, 0 differ" in done.stdout  # the hidden lock file is not compared


def test_a_changed_figure_or_a_missing_file_is_a_difference(tmp_path: Path) -> None:
    a = _folder(tmp_path / "a", period="2026-10", fingerprint="0123456789abcdef", time="03/12/2026 12:36:59 +0000",
                seconds=4.2)  # fmt: skip
    b = _folder(tmp_path / "b", period="2026-09", fingerprint="0123456789abcdef", time="03/12/2026 12:36:59 +0000",
                seconds=4.2)  # fmt: skip
    done = _compare(a, b)
    assert done.returncode == 1
    # the element that differs
    assert "-<dd>Kỳ báo cáo: 2026-10</dd>\n+<dd>Kỳ báo cáo: 2026-09</dd>" in done.stdout
    assert "3 file(s) compared, 3 differ" in done.stdout  # page, manifest and log all name the period

    c = _folder(tmp_path / "c", period="2026-10", fingerprint="0123456789abcdef", time="03/12/2026 12:36:59 +0000",
                seconds=4.2)  # fmt: skip
    (c / "schedule.log").unlink()
    done = _compare(a, c)
    assert done.returncode == 1
    assert f"only in {a}: schedule.log" in done.stdout


def test_the_injected_cell_id_is_volatile_in_either_attribute_order(tmp_path: Path) -> None:
    for side, cell in (("a", "16e767d2"), ("b", "0a1b2c3d")):
        (tmp_path / side).mkdir()
        page = f'<div id="cell-id={cell}" class="jp-Cell jp-mod-noInput  celltag_injected-parameters"></div>'
        (tmp_path / side / "r.html").write_text(page + '<div id="cell-id=8d8856d4" class="jp-Cell"></div>')
    assert _compare(tmp_path / "a", tmp_path / "b").returncode == 0
    (tmp_path / "b" / "r.html").write_text(
        '<div id="cell-id=0a1b2c3d" class="jp-Cell jp-mod-noInput  celltag_injected-parameters"></div>'
        '<div id="cell-id=99999999" class="jp-Cell"></div>'  # another cell's id is not volatile
    )
    assert _compare(tmp_path / "a", tmp_path / "b").returncode == 1


def test_parse_html_compares_pages_as_documents(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    # html.parser's output (nbconvert's pages before render.ReportExporter) and the template's text
    (tmp_path / "a" / "r.html").write_text(
        '<meta charset="utf-8"/>\n<svg><path d="M0,0"></path></svg><p>1<br/>2</p>'
    )
    (tmp_path / "b" / "r.html").write_text(
        '<meta charset="utf-8" />\n<svg><path d="M0,0"/></svg><p>1<br>2</p>'
    )
    assert _compare(tmp_path / "a", tmp_path / "b").returncode == 1
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--parse-html", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout
    (tmp_path / "b" / "r.html").write_text(
        '<meta charset="utf-8" />\n<svg><path d="M0,1"/></svg><p>1<br>2</p>'
    )
    changed = subprocess.run(
        [sys.executable, str(SCRIPT), "--parse-html", str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert changed.returncode == 1  # a changed figure still differs
