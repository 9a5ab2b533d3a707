#!/usr/bin/env bash
# Render a fixed set of reports (every kind, both languages, defaults and explicit parameters, plus a small
# scheduled run) into OUT_DIR with the given egov-metrics command, for bench/compare_reports.py.
#
#   bench/render_report_set.sh EGOV_CLI DB OUT_DIR
#   e.g. bench/render_report_set.sh /work/main/.venv/bin/egov-metrics /tmp/x.duckdb /tmp/before
#        bench/render_report_set.sh .venv/bin/egov-metrics /tmp/x.duckdb /tmp/after
#        .venv/bin/python bench/compare_reports.py /tmp/before /tmp/after
#
# The database should be a demo built with a fixed --until (e.g. `egov-metrics demo --db /tmp/x.duckdb
# --dossiers 200000 --until 2026-10`) so that the default periods do not move between the two renders.
set -euo pipefail
cli=$1 db=$2 out=$3
mkdir -p "$out/single" "$out/schedule"
r() { "$cli" report "$@" --db "$db" --out "$out/single" >/dev/null; }
r progress_report
r progress_report -p lang=en -p period=2026-06 -p unit=STP
r roadmap_report
r roadmap_report -p lang=en -p as_of=2025-12-31
r roadmap_report -p phase=P2026_2030 -p as_of=2026-09-30
r unit_scorecard -p unit=STP
r unit_scorecard -p unit=X22738 -p lang=en -p period=2026-09
# refusals: the message of each, one after the other (a different kind of error shows here)
e() { { "$cli" report "$@" --db "$db" --out "$out/single" 2>&1 || true; } | tr -s ' \n' ' '; echo; }
{
  e unit_scorecard
  e unit_scorecard -p unit=H582
  e unit_scorecard -p unit=NOPE
  e progress_report -p period=2019-01
  e progress_report -p period=2026-13
  e roadmap_report -p as_of=2020-01-01
  e roadmap_report -p phase=P2040
  e roadmap_report -p colour=red
} >"$out/errors.txt"
jobs=$(mktemp --suffix=.yaml)
cat >"$jobs" <<'YAML'
jobs:
  - {id: progress, kind: progress_report, cadence: {every: month, day: 3}, units: province, languages: [vi, en]}
  - {id: roadmap, kind: roadmap_report, cadence: {every: quarter, day: 5}, languages: [vi, en]}
  - {id: cards, kind: unit_scorecard, cadence: {every: month, day: 3}, units: [STP], since: 2026-09}
YAML
"$cli" schedule run --as-of 2026-11-10 --jobs "$jobs" --workers 1 -q --db "$db" --out "$out/schedule" >/dev/null
rm -f "$jobs"
