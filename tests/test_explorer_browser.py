"""The explorer in a real JupyterLab, driven by Playwright on Debian's chromium, with no network.

A JupyterLab server is started on 127.0.0.1 with a random port and token in a temporary folder (its own
Jupyter config, data and runtime folders, so nothing of the user's is read or written). Chromium opens a
notebook that calls `explore()`, runs it (Shift+Enter), and waits for the pickers, the interactive chart
(drawn by the offline Vega bundle) and the table. Then a picker is changed (split by channel) and the test
checks that the table and the chart were redrawn with the channels' Vietnamese names; hovering a point
shows a tooltip with a Vietnamese-formatted value. Every request that does not go to the local server is
aborted and recorded: the explorer must need none.

Cost: JupyterLab is part of the test extra for this test (~67 MB of packages in the venv, measured with du);
the test took 35 s on the 2-core machine (server start, kernel, two renders).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, FLAGS, find_chromium

pytestmark = pytest.mark.slow  # a real JupyterLab driven in headless Chromium

NOTEBOOK_CELLS = [
    "import os\nfrom egov_metrics.explorer import explore\n\n"
    'explorer = explore(os.environ["EGOV_DB"], start="2026-01", end="2026-06")\nexplorer',
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _notebook(cells: list[str]) -> dict:
    return {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
            for c in cells
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture(scope="module")
def lab(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server: (base URL with token query, its root folder)."""
    root = tmp_path_factory.mktemp("lab")
    (root / "explorer.ipynb").write_text(json.dumps(_notebook(NOTEBOOK_CELLS)), encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "EGOV_DB": str(small_demo_db),
        "JUPYTER_CONFIG_DIR": str(root / ".config"),
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
        "IPYTHONDIR": str(root / ".ipython"),
    }
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not start:\n{(root / 'lab.log').read_text()[-3000:]}", pytrace=False
                )
            time.sleep(0.5)
        yield f"{base}|{token}", root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


#: test_browser's flags, with the local server exempt from "no host name resolves".
LAB_FLAGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" if f.startswith("--host-resolver-rules") else f
    for f in FLAGS
]

CHART = ".egov-explorer .chart-wrapper svg.marks"
CHART_TEXT = f"() => (document.querySelector('{CHART}') || {{}}).textContent || ''"
TABLE_TEXT = (
    "() => (document.querySelector('.egov-explorer table.egov-explorer-table') || {}).innerText || ''"
)


def test_the_explorer_runs_in_jupyterlab_offline_and_follows_its_pickers(lab: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    address, _root = lab
    base, token = address.split("|")
    foreign: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(find_chromium()), args=LAB_FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")

        def guard(route: object) -> None:
            url = route.request.url
            if url.startswith((base, "data:", "blob:")):
                route.continue_()
            else:
                foreign.append(url)
                route.abort("internetdisconnected")

        context.route("**/*", guard)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/lab/tree/explorer.ipynb?token={token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook", timeout=90_000)
        run_first_cell(page)

        page.wait_for_selector(".egov-explorer table.egov-explorer-table", timeout=120_000)
        page.wait_for_selector(CHART, timeout=60_000)
        page.wait_for_timeout(1000)
        before_chart = page.evaluate(CHART_TEXT)
        before_table = page.evaluate(TABLE_TEXT)
        assert "Tỷ lệ hồ sơ trực tuyến" in before_chart  # the title: a name, not the id online_share
        assert "Tỷ lệ hồ sơ trực tuyến" in before_table and "Trực tuyến" not in before_table.split("\n")[0]
        page.screenshot(path=str(_artifact("explorer_before.png")), full_page=True)

        # a picker: split by channel
        dimension = page.locator(".egov-explorer .widget-dropdown", has_text="Chia theo").locator("select")
        dimension.select_option(label="Hình thức nộp")
        page.wait_for_function(f"() => ({TABLE_TEXT})().includes('Bưu chính công ích')", timeout=60_000)
        page.wait_for_timeout(1500)
        after_table = page.evaluate(TABLE_TEXT)
        page.wait_for_function(f"() => ({CHART_TEXT})().includes('Bưu chính công ích')", timeout=60_000)
        after_chart = page.evaluate(CHART_TEXT)
        assert "Hình thức nộp" not in after_table  # names, not the picker's label, fill the table
        assert {"Trực tuyến", "Trực tiếp", "Bưu chính công ích"} <= set(
            after_table.replace("\t", "\n").split("\n")
        )
        # the legend names the channels (names, not codes) and the lines were redrawn
        assert {"Trực tuyến", "Trực tiếp"} <= set(
            page.locator(f"{CHART} .role-legend-label text").all_text_contents()
        )
        assert "in_person" not in after_chart and after_chart != before_chart

        # hover a point: a tooltip with the channel and a Vietnamese-formatted value (decimal comma)
        page.locator(f"{CHART} .role-mark.layer_1_marks path").first.hover(force=True)
        page.wait_for_function(
            "() => document.querySelector('#vg-tooltip-element')?.classList.contains('visible')",
            timeout=10_000,
        )
        tooltip = page.inner_text("#vg-tooltip-element")
        page.screenshot(path=str(_artifact("explorer_after.png")), full_page=True)
        context.close()
        browser.close()

    assert not foreign, f"the explorer asked the network for: {foreign[:5]}"
    assert not [e for e in errors if "egov" in e.lower() or "vega" in e.lower()], errors
    assert "Giá trị" in tooltip, f"no tooltip found on the chart (got {tooltip!r})"
    assert "," in tooltip.split("Giá trị")[-1], (
        f"the tooltip's value is not written the Vietnamese way: {tooltip!r}"
    )


def run_first_cell(page: object) -> None:
    """Once the kernel is connected and idle, run the first cell (Shift+Enter); retry until it started."""
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')?.innerText"
        " || document.body.innerText)",
        timeout=120_000,
    )
    prompt = page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt")
    for _ in range(10):
        page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").first.click()
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_function(
                "(el) => /\\[(\\*|\\d+)\\]/.test(el.innerText)", arg=prompt.element_handle(), timeout=5_000
            )
            return
        except Exception:  # the kernel was not ready yet: try again
            continue
    pytest.fail("JupyterLab never ran the explorer's cell", pytrace=False)


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
