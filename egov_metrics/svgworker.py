"""vl-convert in a helper process, so that a single report does not wait for its JavaScript engine to start.

vl-convert's first conversion in a process starts a JavaScript runtime (~0.4 s of CPU); later ones take
~0.03 s. `egov-metrics report` starts this helper first (`start`). The helper is a second Python process
that imports vl-convert and starts the runtime while the command imports the report stack on the other core.
Started as a thread of the same process, the runtime slowed those imports by as much as it saved
(bench/README.md). `charts.to_svg` then asks the helper (`convert`) and gets the same SVG vl-convert
would give, because it is the same call on the same spec.

`convert` returns None when no helper runs in this process or when the helper fails in any way (it
refused the spec, died, or did not answer within `TIMEOUT_S`). The caller then converts the spec itself,
so a bad spec raises vl-convert's own error as before. The helper ends when this process exits (`stop`,
registered with atexit) or when its input closes. Set `EGOV_CHART_WORKER=0` to turn it off.

Protocol, on the helper's stdin and stdout: a request is a 4-byte big-endian length, then JSON
`{"spec": …, "vl_version": …}`. The answer is a 4-byte length, then one status byte (`0` for an SVG, `1`
for an error message) and the UTF-8 text.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from typing import IO, Any

ENV_VAR = "EGOV_CHART_WORKER"
#: Longest wait for one chart (the helper's start included) before giving up on the helper.
TIMEOUT_S = 60.0
#: Largest answer believed (a report's SVGs are tens of kilobytes): more means the stream is not an answer.
MAX_ANSWER = 256 * 2**20
#: The helper's warm-up chart: an axis, a title and text marks, so the fonts load too. It is converted
#: with the newest Vega-Lite that vl-convert bundles (the version altair's specs use; another version
#: only costs its own bundle's load on its first chart).
WARM_UP_SPEC: dict[str, Any] = {
    "title": "0",
    "data": {"values": [{"x": 0, "y": 0}]},
    "mark": "text",
    "encoding": {
        "x": {"field": "x", "type": "quantitative"},
        "y": {"field": "y", "type": "quantitative"},
        "text": {"field": "x"},
    },
}

_lock = threading.Lock()
_helper: subprocess.Popen[bytes] | None = None
_owner = 0  # the process that started the helper


def enabled() -> bool:
    """Whether `start` starts a helper (`EGOV_CHART_WORKER` is not 0, false, no or off)."""
    return os.environ.get(ENV_VAR, "1").strip().lower() not in {"0", "false", "no", "off"}


def start() -> bool:
    """Start the helper, once per process. Returns whether one is running. Never raises: without a
    helper the charts are converted in this process, as before."""
    global _helper, _owner
    if not enabled():
        return False
    with _lock:
        if _helper is None:
            _owner = os.getpid()
            try:
                _helper = subprocess.Popen(
                    [sys.executable, "-m", __name__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                return False
            atexit.register(stop)
        return _helper.poll() is None


def running() -> bool:
    """Whether a helper is running for this process."""
    with _lock:
        return _helper is not None and _helper.poll() is None


def _read(stream: IO[bytes], n: int, deadline: float) -> bytes:
    """Exactly `n` bytes from the helper, waiting at most until `deadline` (time.monotonic)."""
    chunks: list[bytes] = []
    left = n
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([stream], [], [], wait)[0]:
            raise TimeoutError("the chart helper did not answer")
        chunk = os.read(stream.fileno(), left)
        if not chunk:
            raise EOFError("the chart helper ended")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def convert(spec: dict[str, Any], vl_version: str) -> str | None:
    """The SVG of a Vega-Lite `spec`, drawn by the helper; None when there is no helper or it failed (the
    caller then converts the spec itself). A helper that failed is stopped and not asked again. A process
    forked from the one that started the helper does not use it (the pipes would be shared)."""
    global _helper
    with _lock:
        helper = _helper
        if helper is None or _owner != os.getpid():
            return None
        if helper.poll() is not None or helper.stdin is None or helper.stdout is None:
            return None
        try:
            request = json.dumps({"spec": spec, "vl_version": vl_version}).encode("utf-8")
            helper.stdin.write(struct.pack(">I", len(request)) + request)
            helper.stdin.flush()
            deadline = time.monotonic() + TIMEOUT_S
            (length,) = struct.unpack(">I", _read(helper.stdout, 4, deadline))
            if length > MAX_ANSWER:
                raise ValueError(f"the chart helper announced {length} bytes")
            answer = _read(helper.stdout, length, deadline)
        except (OSError, ValueError, TypeError, EOFError, TimeoutError, struct.error):
            _end(helper)
            _helper = None
            return None
    if answer[:1] != b"0":  # vl-convert refused the spec: the caller's own conversion reports why
        return None
    return answer[1:].decode("utf-8")


def _end(helper: subprocess.Popen[bytes]) -> None:
    try:
        if helper.stdin is not None:
            helper.stdin.close()
        helper.wait(timeout=1.0)
    except (OSError, subprocess.TimeoutExpired):
        helper.kill()
        helper.wait()


def stop() -> None:
    """End the helper (its input closes; killed if it does not end within a second)."""
    global _helper
    with _lock:
        helper, _helper = _helper, None
    if helper is not None:
        _end(helper)


def _serve() -> None:
    """The helper's loop: start vl-convert's runtime, then answer requests until stdin closes. The answers
    go out on the original stdout only; anything else that writes to stdout (a library's print, the
    JavaScript runtime's console) is sent to stderr, which the parent discards, so it cannot break the
    protocol."""
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    import vl_convert as vlc

    with contextlib.suppress(Exception):  # only a head start: the first chart pays the start instead
        vlc.vegalite_to_svg(WARM_UP_SPEC, vl_version=vlc.get_vegalite_versions()[-1])
    source = sys.stdin.buffer
    while True:
        head = source.read(4)
        if len(head) < 4:
            return
        (length,) = struct.unpack(">I", head)
        request = json.loads(source.read(length))
        try:
            svg = vlc.vegalite_to_svg(request["spec"], vl_version=request["vl_version"])
            answer = b"0" + svg.encode("utf-8")
        except Exception as exc:  # reported to the caller, which converts again and raises the real error
            answer = b"1" + str(exc).encode("utf-8")
        sink.write(struct.pack(">I", len(answer)) + answer)
        sink.flush()


if __name__ == "__main__":
    _serve()
