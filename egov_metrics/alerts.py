"""Alerts: after each scheduled run, a short Vietnamese digest of what changed since the last run.

    digest = compare(before, now, rules)      # two `front_page_facts` snapshots -> the changes, in order
    text = digest_text(digest, now)           # plain text for mail and chat hooks
    page = digest_html(digest, now)           # reports/alerts.html, linked from the landing page

What counts as a change (thresholds in `AlertRules`):
- a unit that dropped to a lower 766 band, or out of its rank group (the top, middle or bottom third of its
  peers: departments among departments, communes among communes);
- a target of the year that turned at risk or off track (it was achieved, on track or without data);
- a unit whose overdue backlog grew by at least `overdue_growth` dossiers (default 10).

`publish(out_dir, now, command=…)` keeps the last snapshot in `<out>/alerts_state.json`, writes
`alerts.html` and `alerts.txt`, and passes the text on stdin to `command` (a shell command line such as
`mail -s "egov-metrics" ops@example.org`), when one is configured.
"""

from __future__ import annotations

import html
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from egov_metrics.i18n import fmt_number, fmt_period, fmt_value
from egov_metrics.model import FrozenModel
from egov_metrics.vocab import STATUSES

STATE_FILE = "alerts_state.json"
PAGE = "alerts.html"
TEXT = "alerts.txt"
BAD = ("at_risk", "off_track")
STATUS_VI = {code: term.vi.lower() for code, term in STATUSES.items()}
RANK_GROUPS = ("nhóm đầu", "nhóm giữa", "nhóm cuối")


class AlertRules(FrozenModel):
    #: overdue dossiers of a unit must grow by at least this many since the last run
    overdue_growth: Annotated[int, Field(ge=1)] = 10


@dataclass(frozen=True)
class Change:
    kind: str  # band, rank_group, target, overdue
    text: str  # one Vietnamese sentence


def _band_order() -> dict[str, int]:
    from egov_metrics.scoring import latest_method

    bands = sorted(latest_method().bands, key=lambda b: b.min, reverse=True)
    return {b.name_vi: n for n, b in enumerate(bands)}  # 0 = best


def rank_group(rank: int | None, among: int | None) -> int | None:
    """0, 1 or 2: the top, middle or bottom third of `among` peers."""
    if rank is None or not among:
        return None
    return min(2, (rank - 1) * 3 // among)


def compare(
    before: dict[str, Any] | None, now: dict[str, Any], rules: AlertRules | None = None
) -> list[Change]:
    """The changes from the `before` snapshot to `now` (both `front_page_facts`); none without `before`."""
    rules = rules or AlertRules()
    if not before:
        return []
    out: list[Change] = []
    order = _band_order()
    old_units = {u["id"]: u for u in before.get("units", [])}
    for u in now.get("units", []):
        o = old_units.get(u["id"])
        if o is None or u["total"] is None or o["total"] is None:
            continue
        if u["band"] in order and o["band"] in order and order[u["band"]] > order[o["band"]]:
            out.append(Change("band", f"{u['name']}: xuống xếp loại “{u['band']}” (trước: “{o['band']}”), "
                                      f"{fmt_number(u['total'], 2, 'vi')} điểm."))  # fmt: skip
        g_old = rank_group(o.get("rank"), o.get("rank_among"))
        g_new = rank_group(u.get("rank"), u.get("rank_among"))
        if g_old is not None and g_new is not None and g_new > g_old:
            out.append(Change("rank_group", f"{u['name']}: từ {RANK_GROUPS[g_old]} xuống {RANK_GROUPS[g_new]} "
                                            f"(hạng {u['rank']}/{u['rank_among']}, trước {o['rank']}/{o['rank_among']})."))  # fmt: skip
    old_status = before.get("statuses", {})
    for ind, s in now.get("statuses", {}).items():
        was = old_status.get(ind, {}).get("status")
        if s["status"] in BAD and was is not None and was not in BAD:
            out.append(
                Change(
                    "target",
                    f"{s['name']}: chuyển từ “{STATUS_VI.get(was, was)}” sang “{STATUS_VI[s['status']]}” "
                    f"(hiện {fmt_value(s['current'], s['unit'], 1, 'vi')}, mục tiêu năm "
                    f"{fmt_value(s['target'], s['unit'], 1, 'vi')}).",
                )
            )
    old_overdue = before.get("overdue", {})
    names = now.get("names", {})
    for unit_id, n in sorted(now.get("overdue", {}).items(), key=lambda kv: -kv[1]):
        grew = n - old_overdue.get(unit_id, 0)
        if grew >= rules.overdue_growth:
            out.append(Change("overdue", f"{names.get(unit_id, unit_id)}: hồ sơ quá hạn tăng thêm "
                                         f"{fmt_number(grew, 0, 'vi')}, lên {fmt_number(n, 0, 'vi')}."))  # fmt: skip
    return out


HEADINGS = {
    "band": "Đơn vị xuống xếp loại Chỉ số 766",
    "rank_group": "Đơn vị tụt nhóm xếp hạng",
    "target": "Mục tiêu năm chuyển sang có nguy cơ hoặc chệch hướng",
    "overdue": "Hồ sơ quá hạn tăng mạnh",
}


def _title(now: dict[str, Any], before: dict[str, Any] | None) -> str:
    since = f" so với lần chạy trước ({fmt_period(before['period'], 'vi')})" if before else ""
    return f"Thay đổi cần chú ý · {now.get('province', '')} · {fmt_period(now['period'], 'vi')}{since}"


def digest_text(changes: list[Change], now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The digest as plain text (Vietnamese): a title, then one line per change under its heading."""
    lines = [_title(now, before)]
    if before is None:
        lines.append("Lần chạy đầu tiên: chưa có số liệu trước để so sánh.")
    elif not changes:
        lines.append("Không có thay đổi đáng chú ý.")
    for kind, heading in HEADINGS.items():
        mine = [c for c in changes if c.kind == kind]
        if mine:
            lines.append(f"{heading}:")
            lines += [f"- {c.text}" for c in mine]
    return "\n".join(lines) + "\n"


def digest_html(changes: list[Change], now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The digest as a small offline page, linked from the landing page."""
    parts = []
    text = digest_text(changes, now, before).splitlines()
    if before is None or not changes:
        parts.append(f"<p>{html.escape(text[1])}</p>")
    for kind, heading in HEADINGS.items():
        mine = [c for c in changes if c.kind == kind]
        if mine:
            items = "".join(f"<li>{html.escape(c.text)}</li>" for c in mine)
            parts.append(f"<h2>{html.escape(heading)}</h2><ul>{items}</ul>")
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thay đổi cần chú ý</title><style>body{{font-family:'Segoe UI',Arial,'DejaVu Sans',sans-serif;margin:1.2em;
color:#222;font-size:15px}}h1{{color:#1f4e79;font-size:1.35em}}h2{{font-size:1.1em;color:#1f4e79}}
li{{margin:.2em 0}}</style></head>
<body><h1>{html.escape(text[0])}</h1>{"".join(parts)}
<p><a href="index.html">Về trang tổng quan</a></p></body></html>"""


def publish(
    out_dir: str | Path, now: dict[str, Any], *, command: str | None = None, rules: AlertRules | None = None
) -> tuple[str, list[Change], str | None]:
    """Compare `now` with the last run's snapshot, write alerts.html/alerts.txt and the new snapshot, and pass
    the text to `command` on stdin. Returns (text, changes, the command's one-line error or None)."""
    from egov_metrics.reports.render import _atomic_write

    out = Path(out_dir)
    state_path = out / STATE_FILE
    try:
        before = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = None
    changes = compare(before, now, rules)
    text = digest_text(changes, now, before)
    _atomic_write(out / TEXT, text.encode("utf-8"))
    _atomic_write(out / PAGE, digest_html(changes, now, before).encode("utf-8"))
    _atomic_write(state_path, json.dumps(now, ensure_ascii=False).encode("utf-8"))
    error = None
    if command:
        try:
            done = subprocess.run(
                command, shell=True, input=text, text=True, capture_output=True, timeout=120
            )
            if done.returncode != 0:
                error = f"alert command exited {done.returncode}: {' '.join(done.stderr.split())[:200]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = f"alert command failed: {exc}"
    return text, changes, error
