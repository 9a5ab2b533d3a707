"""Compare two folders of rendered reports, ignoring what changes from one render to the next.

    .venv/bin/python bench/compare_reports.py BEFORE_DIR AFTER_DIR

Run it around a structural change (docs/extending.md, "After a structural change"): render the same set of
reports before and after (`bench/render_report_set.sh`), then compare. Every file is compared, in every
sub-folder: the same file names on both sides, and the same contents once the volatile parts are stripped —
times of generation, durations, data fingerprints, process ids (see `VOLATILE`). HTML, JSON, the schedule
log and text files are compared as text; other files byte for byte. Hidden files and folders (the run lock,
the compute cache) are skipped. Prints a unified diff of each differing file (the first lines) and exits 1 on
any difference, 0 when the folders match.

`--parse-html` compares HTML pages as documents: each is parsed with Python's html.parser (BeautifulSoup)
and written back out before comparing, so pages that differ only in how the same tree is serialised
(attribute order and quoting, `<br/>` or `<br>`, `<path/>` or `<path></path>`, blank lines between tags)
match. Use it across the change that stopped nbconvert's own parse-and-rewrite pass (render.ReportExporter):
pages before it were html.parser's output, pages after it are the template's.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

#: Volatile text, each replaced by a placeholder before comparing.
VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    # ISO timestamps (schedule log and state, manifest): 2026-12-03T12:36:59+00:00, with optional fraction
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?"), "<time>"),
    # the footer's time of generation (03/12/2026 12:36:59 +0000), the index's (03/12/2026 12:36)
    (re.compile(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}(:\d{2})?( [+-]\d{4})?"), "<time>"),
    # papermill gives the cell it injects (the parameters) a new random id on every run
    (re.compile(r'(celltag_injected-parameters" id="cell-id=)[0-9a-f-]+'), r"\1<id>"),
    # … in the template's own attribute order (pages since render.ReportExporter; before, html.parser's)
    (re.compile(r'(id="cell-id=)[0-9a-f-]+("\s+class="[^"]*\bcelltag_injected-parameters\b)'), r"\1<id>\2"),
    # data fingerprints and other 16-64 hex digests
    (re.compile(r"\b[0-9a-f]{16,64}\b"), "<hash>"),
)
#: JSON keys whose values differ between renders of the same reports.
VOLATILE_KEYS = frozenset(
    {"seconds", "generated_at", "data_fingerprint", "pid", "started_at", "finished_at", "last_success"}
)
#: The schedule log's volatile columns (tab-separated): 0 time, 4 seconds.
LOG_VOLATILE_COLUMNS = (0, 4)
TEXT_SUFFIXES = frozenset({".html", ".json", ".log", ".txt", ".csv", ".md"})
SHOWN_LINES = 40


def _strip(text: str) -> str:
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def _json_without_volatile(value: object) -> object:
    if isinstance(value, dict):
        return {
            k: "<volatile>" if k in VOLATILE_KEYS else _json_without_volatile(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_json_without_volatile(v) for v in value]
    return value


def _log_without_volatile(text: str) -> str:
    lines = []
    for line in text.splitlines():
        cells = line.split("\t")
        for i in LOG_VOLATILE_COLUMNS:
            if i < len(cells):
                cells[i] = "<volatile>"
        lines.append("\t".join(cells))
    return "\n".join(lines)


def _parsed(text: str) -> str:
    from bs4 import BeautifulSoup  # nbconvert's dependency

    return str(BeautifulSoup(text, "html.parser"))


def normalised(path: Path, parse_html: bool = False) -> list[str]:
    """The file's comparable lines: volatile parts replaced by placeholders (HTML parsed and written back out
    first with `parse_html`)."""
    text = path.read_text(encoding="utf-8")
    if parse_html and path.suffix == ".html":
        text = _parsed(text)
    if path.suffix == ".json":
        text = json.dumps(_json_without_volatile(json.loads(text)), ensure_ascii=False, indent=1)
    elif path.suffix == ".log":
        text = _log_without_volatile(text)
    elif path.suffix == ".html":  # one tag a line: a difference shows as the element that differs
        text = text.replace("><", ">\n<")
    return _strip(text).splitlines()


def _files(root: Path) -> set[Path]:
    return {
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def compare(before: Path, after: Path, out: list[str], parse_html: bool = False) -> int:
    """Append every difference to `out`; return the number of files that differ (missing ones included)."""
    ours, theirs = _files(before), _files(after)
    differ = 0
    for rel in sorted(ours ^ theirs):
        out.append(f"only in {before if rel in ours else after}: {rel}")
        differ += 1
    for rel in sorted(ours & theirs):
        a, b = before / rel, after / rel
        if rel.suffix in TEXT_SUFFIXES:
            left, right = normalised(a, parse_html), normalised(b, parse_html)
            if left != right:
                diff = difflib.unified_diff(left, right, str(a), str(b), lineterm="", n=1)
                out.extend(line[:300] for _, line in zip(range(SHOWN_LINES), diff, strict=False))
                differ += 1
        elif a.read_bytes() != b.read_bytes():
            out.append(f"binary files differ: {rel}")
            differ += 1
    return differ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument(
        "--parse-html", action="store_true", help="compare HTML pages as parsed documents (see above)"
    )
    args = parser.parse_args(argv)
    for folder in (args.before, args.after):
        if not folder.is_dir():
            parser.error(f"{folder} is not a folder")
    out: list[str] = []
    differ = compare(args.before, args.after, out, args.parse_html)
    print("\n".join(out))
    checked = len(_files(args.before) | _files(args.after))
    print(f"{checked} file(s) compared, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
