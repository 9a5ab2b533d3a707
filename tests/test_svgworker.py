"""The chart helper process (egov_metrics/svgworker.py): the same SVG as vl-convert in this process, and every
way it can fail leaves the charts to this process's own conversion."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import altair as alt
import polars as pl
import pytest
import vl_convert as vlc

from egov_metrics import charts, svgworker


@pytest.fixture
def helper(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(svgworker.ENV_VAR, raising=False)
    svgworker.stop()
    assert svgworker.start()
    yield
    svgworker.stop()


def _chart() -> alt.Chart:
    frame = pl.DataFrame(
        {
            "tháng": ["2026-01", "2026-02", "2026-03"],
            "tỷ lệ": [41.5, 47.25, 52.0],
            "đơn vị": ["Sở Tư pháp"] * 3,
        }
    )
    return (
        alt.Chart(frame, title="Tỷ lệ hồ sơ trực tuyến")
        .mark_line(point=True)
        .encode(x="tháng:O", y="tỷ lệ:Q", color="đơn vị:N")
    )


def _spec() -> dict[str, Any]:
    return _chart().to_dict(validate=charts.VALIDATE_SPECS)


def test_the_helper_draws_the_svg_vl_convert_draws_here(helper: None) -> None:
    spec = _spec()
    drawn = svgworker.convert(spec, charts.VL_VERSION)
    assert drawn is not None and drawn.startswith("<svg")
    assert drawn == vlc.vegalite_to_svg(spec, vl_version=charts.VL_VERSION)
    assert "Tỷ lệ hồ sơ trực tuyến" in drawn  # Vietnamese text through the pipe, both ways
    assert charts.to_svg(_chart()) == drawn


def test_without_a_helper_the_charts_are_drawn_here(monkeypatch: pytest.MonkeyPatch) -> None:
    svgworker.stop()
    assert svgworker.convert(_spec(), charts.VL_VERSION) is None
    assert charts.to_svg(_chart()).startswith("<svg")
    monkeypatch.setenv(svgworker.ENV_VAR, "0")
    assert not svgworker.start() and not svgworker.running()


def test_a_refused_spec_is_left_to_this_process_and_the_helper_goes_on(helper: None) -> None:
    bad = {"mark": "no-such-mark", "data": {"values": [{"a": 1}]}}
    assert svgworker.convert(bad, charts.VL_VERSION) is None
    with pytest.raises(ValueError):  # this process's own conversion names the problem
        vlc.vegalite_to_svg(bad, vl_version=charts.VL_VERSION)
    assert svgworker.running()
    assert svgworker.convert(_spec(), charts.VL_VERSION) is not None


def test_a_helper_that_died_is_not_asked_again(helper: None) -> None:
    process = svgworker._helper
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert svgworker.convert(_spec(), charts.VL_VERSION) is None
    assert not svgworker.running()
    assert charts.to_svg(_chart()).startswith("<svg")  # drawn here instead


def test_stop_ends_the_helper(helper: None) -> None:
    process = svgworker._helper
    assert process is not None and process.poll() is None
    svgworker.stop()
    assert process.poll() is not None and not svgworker.running()


def test_output_printed_in_the_helper_does_not_reach_the_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Anything the helper's libraries print to stdout goes to its stderr: the answers stay readable."""
    noisy = (
        "import vl_convert, egov_metrics.svgworker as w\n"
        "real = vl_convert.vegalite_to_svg\n"
        "def loud(*a, **k):\n"
        "    print('noise on stdout', flush=True)\n"
        "    return real(*a, **k)\n"
        "vl_convert.vegalite_to_svg = loud\n"
        "w._serve()\n"
    )
    svgworker.stop()
    process = subprocess.Popen(
        [sys.executable, "-c", noisy],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    monkeypatch.setattr(svgworker, "_helper", process)
    monkeypatch.setattr(svgworker, "_owner", os.getpid())
    try:
        spec = _spec()
        for _ in range(2):
            assert svgworker.convert(spec, charts.VL_VERSION) == vlc.vegalite_to_svg(
                spec, vl_version=charts.VL_VERSION
            )
    finally:
        svgworker.stop()


def test_a_forked_process_does_not_use_its_parents_helper(
    helper: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipes belong to the process that started the helper; a child forked from it draws its own charts."""
    monkeypatch.setattr(svgworker, "_owner", os.getpid() + 1)  # as seen from a forked child
    assert svgworker.convert(_spec(), charts.VL_VERSION) is None
    monkeypatch.setattr(svgworker, "_owner", os.getpid())
    assert svgworker.convert(_spec(), charts.VL_VERSION) is not None  # the helper itself was left alone
