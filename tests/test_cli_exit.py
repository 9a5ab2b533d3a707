"""The `egov-metrics` command's quick exit (`egov_metrics.cli.main`): it skips the interpreter's teardown but
keeps what a normal exit guarantees: the command's exit status, everything written to a pipe, the atexit
handlers and the threads still working."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from egov_metrics.catalog import load_catalog


def _run_main(argv: list[str], before: str = "") -> subprocess.CompletedProcess[str]:
    """`egov_metrics.cli.main()` in a new interpreter with `argv`, after the statements `before`."""
    script = textwrap.dedent(before) + textwrap.dedent(
        f"""
        import sys
        from egov_metrics.cli import main
        sys.argv = ["egov-metrics", *{argv!r}]
        main()
        raise AssertionError("main() returned")
        """
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_the_installed_command_is_the_quick_exit() -> None:
    script = Path(sys.executable).with_name("egov-metrics")
    assert script.is_file(), "the package is installed (make test installs it)"
    assert "from egov_metrics.cli import main" in script.read_text(encoding="utf-8")


def test_a_pipe_gets_every_line_and_the_status_is_zero() -> None:
    done = _run_main(["catalog", "list"])
    assert done.returncode == 0, done.stderr
    listed = {line.split("\t")[0] for line in done.stdout.splitlines()[1:]}
    assert listed == {ind.id for ind in load_catalog()}


def test_an_error_keeps_its_status_and_its_message() -> None:
    done = _run_main(["report", "no_such_kind"])
    assert done.returncode == 2
    assert "no_such_kind" in done.stderr and "progress_report" in done.stderr


def test_a_usage_error_keeps_its_status() -> None:
    done = _run_main(["no-such-command"])
    assert done.returncode == 2
    assert "no-such-command" in done.stderr


def test_atexit_handlers_run_last_and_their_output_arrives() -> None:
    before = """
        import atexit, sys
        atexit.register(lambda: print("atexit handler ran", flush=False))
    """
    done = _run_main(["catalog", "list"], before)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "atexit handler ran"


def test_threads_still_working_are_waited_for(tmp_path: Path) -> None:
    marker = tmp_path / "written-by-a-thread"
    before = f"""
        import threading, time
        from pathlib import Path
        def late() -> None:
            time.sleep(0.5)
            Path({str(marker)!r}).write_text("done")
        threading.Thread(target=late).start()
    """
    done = _run_main(["--help"], before)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("a message", 1)])
def test_exit_codes_read_as_sys_exit_reads_them(code: object, status: int) -> None:
    script = f"from egov_metrics.cli import _exit_now\n_exit_now({code!r})\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == status
    assert ("a message" in done.stderr) == (code == "a message")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["calendar", "show", "0"],
            "greater than or equal to 1900",
        ),  # was: ValueError: year 0 is out of range
        (["calendar", "show", "2026", "--lang", "fr"], "use vi or en"),  # was: accepted, shown in Vietnamese
        (["catalog", "list", "--group", "nosuch"], "known: digitization"),  # was: an empty list, status 0
        (["catalog", "list", "--lang", "fr"], "use vi or en"),
    ],
)
def test_a_wrong_calendar_or_catalog_request_is_one_message(argv: list[str], said: str) -> None:
    done = _run_main(argv)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
