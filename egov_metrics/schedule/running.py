"""Running: render every todo report of a plan in worker threads, under the run lock, then the digest."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egov_metrics.config import REPORTS_DIR, default_db_path
from egov_metrics.schedule.checks import refuse_broken_planner_catalog
from egov_metrics.schedule.errors import ScheduleError, one_line
from egov_metrics.schedule.jobs import Job, load_jobs
from egov_metrics.schedule.planning import Instance, Plan, plan
from egov_metrics.schedule.state import RunLock, append_log, now, remove_stale_tmp, write_state

if TYPE_CHECKING:
    from egov_metrics.reports.engine import KernelPool

#: A run holding the lock for longer than this is reported as probably hung (exit code 1).
HUNG_AFTER = dt.timedelta(hours=12)


@dataclass(frozen=True)
class Outcome:
    """The result of rendering one instance."""

    instance: Instance
    ok: bool
    seconds: float
    path: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    plan: Plan | None
    outcomes: tuple[Outcome, ...] = ()
    dry_run: bool = False
    #: Set when the run did nothing because another run holds the lock.
    busy: str | None = None
    hung: bool = False
    seconds: float = 0.0
    workers: int = 0
    #: The alerts digest of the run (plain text), and why it could not be made or sent (one line).
    alerts: str | None = None
    alert_error: str | None = None

    @property
    def rendered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def failure_lines(self) -> list[str]:
        """One line per failure: a report that failed, or a job (or one unit of a job) that could not be
        planned. Each line names the job, the unit, the report and a one-line reason."""
        lines = [
            f"job {o.instance.job} · unit {o.instance.param_dict.get('unit') or 'province'} · "
            f"report {o.instance.describe()} · {o.error}"
            for o in self.failed
        ]
        if self.plan is not None:
            lines += [
                f"job {f.job} · unit {f.unit or '–'} · report {f.kind or '–'} (not planned) · {f.error}"
                for f in self.plan.failures
            ]
        if self.alert_error:
            lines.append(f"alerts · {self.alert_error}")
        return lines

    def summary(self) -> list[str]:
        """The end-of-run summary: one count line, then one line per failure (see `failure_lines`)."""
        if self.plan is None:
            return [f"SUMMARY nothing done: {self.busy}"]
        head = (
            f"SUMMARY {len(self.rendered)} rendered, {len(self.failure_lines)} failure(s), "
            f"{len(self.plan.by_status('done'))} already done, {len(self.plan.by_status('waiting'))} waiting "
            f"for data (through {self.plan.data_through})"
        )
        return [head, *(f"FAILED {line}" for line in self.failure_lines)]

    @property
    def exit_code(self) -> int:
        return 1 if self.failure_lines or self.hung else 0


def _render_instance(
    kind: str, params: dict[str, Any], out_dir: str, notebooks_dir: str, kernels: KernelPool | None = None
) -> tuple[bool, float, str]:
    """Render one report (in the worker's warm kernel of `kernels`); (ok, seconds, file name or one-line
    error). Never raises."""
    from egov_metrics.reports.render import render_report

    started = time.perf_counter()
    try:
        kernel = kernels.current() if kernels is not None else None
        result = render_report(kind, params, out_dir=out_dir, notebooks_dir=notebooks_dir, kernel=kernel)
    except Exception as exc:  # one failing report must not stop the others
        return False, round(time.perf_counter() - started, 2), one_line(exc)
    return True, round(time.perf_counter() - started, 2), result.path.name


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Run in `path`: papermill's `cwd=` is a process-wide os.chdir() that it undoes afterwards, so threads
    rendering at once would each undo the others' change. With the process already there, every change and
    undo is to the same folder."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _alerts(out_dir: Path, db: Path, command: str | None) -> tuple[str | None, str | None]:
    """Write the digest of what changed since the last run (egov_metrics.alerts), pass it to `command`
    (default: $EGOV_ALERT_COMMAND), and link it from the landing page. Returns (text, one-line error)."""
    from egov_metrics import alerts
    from egov_metrics.reports.frontpage import cached_facts
    from egov_metrics.reports.render import data_fingerprint, refresh_index

    command = command if command is not None else os.environ.get("EGOV_ALERT_COMMAND") or None
    try:
        facts = cached_facts(out_dir, db, data_fingerprint(db))
        text, changes, error = alerts.publish(out_dir, facts, command=command)
        refresh_index(out_dir, facts)
    except Exception as exc:  # the reports are made; a digest that cannot be made is reported, not raised
        error = f"no digest: {one_line(exc)}"
        append_log(out_dir, "alerts", "-", "failed", error=error)
        return None, error
    append_log(out_dir, "alerts", "-", f"changes={len(changes)}" + (" sent" if command and not error else ""),
         error=error or "")  # fmt: skip
    return text, error


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


@dataclass
class _Runner:
    out_dir: Path
    notebooks_dir: Path
    db: Path
    on_result: Callable[[Outcome], None] | None
    outcomes: list[Outcome] = field(default_factory=list)

    def _args(self, inst: Instance) -> tuple[str, dict[str, Any], str, str]:
        return (
            inst.kind,
            {**inst.param_dict, "db_path": str(self.db)},
            str(self.out_dir),
            str(self.notebooks_dir),
        )

    def _done(self, inst: Instance, ok: bool, seconds: float, text: str) -> None:
        outcome = Outcome(inst, ok, seconds, text if ok else None, None if ok else text)
        detail = " ".join(f"{k}={v}" for k, v in inst.params if v is not None)
        append_log(self.out_dir, "ok" if ok else "failed", inst.kind, detail, seconds, "" if ok else text)
        self.outcomes.append(outcome)
        if self.on_result is not None:
            self.on_result(outcome)

    def render(self, todo: list[Instance], workers: int) -> None:
        """Render in `workers` threads, each driving its own kernel process, started once and reused for
        the thread's reports (egov_metrics/reports/engine.py); results in completion order."""
        from egov_metrics.cache import ENV_VAR, store_for
        from egov_metrics.reports.engine import KernelPool
        from egov_metrics.schema.connection import memory_share

        # the run's reports share their computations through the compute cache (egov_metrics/cache.py); the
        # kernels querying at once share DuckDB's default memory limit instead of each assuming it has it all
        store = store_for(self.db, self.out_dir)
        env = {ENV_VAR: str(store), **memory_share(min(workers, len(todo)))}
        kernels = KernelPool(self.notebooks_dir, env=env)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="egov-schedule")
        try:
            with _working_directory(self.notebooks_dir):
                futures = {pool.submit(_render_instance, *self._args(inst), kernels): inst for inst in todo}
                for future in as_completed(futures):
                    self._done(futures[future], *future.result())
        except KeyboardInterrupt:
            # Ctrl-C: the reports not started are dropped, the ones rendering end with their kernels (each page
            # is written whole or not at all); the log says where the run stopped, the next run goes on
            pool.shutdown(wait=False, cancel_futures=True)
            append_log(
                self.out_dir, "interrupted", "-",
                f"stopped by Ctrl-C; of {len(todo)} reports planned, the ones written are in the manifest",
            )  # fmt: skip
            raise
        else:
            pool.shutdown()
        finally:
            kernels.close()

    def run(
        self,
        the_plan: Plan,
        workers: int | None,
        on_plan: Callable[[Plan], None] | None,
        alert_command: str | None,
        started: float,
    ) -> RunResult:
        """Render the plan's todo reports, then the digest of changes; log the start, the end and every
        failure."""
        todo = the_plan.todo
        n_workers = max(1, min(workers or default_workers(), len(todo) or 1))
        if on_plan is not None:
            on_plan(the_plan)
        append_log(
            self.out_dir, "run", "-",
            f"as_of={the_plan.as_of} data_through={the_plan.data_through} todo={len(todo)} "
            f"done={len(the_plan.by_status('done'))} waiting={len(the_plan.by_status('waiting'))} workers={n_workers}",
        )  # fmt: skip
        self.render(todo, n_workers)
        # the digest of changes, after a run that made reports (a run with nothing to do changes nothing)
        alerts, alert_error = _alerts(self.out_dir, self.db, alert_command) if self.outcomes else (None, None)
        result = RunResult(
            the_plan,
            tuple(self.outcomes),
            seconds=round(time.perf_counter() - started, 2),
            workers=n_workers,
            alerts=alerts,
            alert_error=alert_error,
        )
        append_log(
            self.out_dir, "end", "-",
            f"rendered={len(result.rendered)} failed={len(result.failed)} job_failures={len(the_plan.failures)}",
            result.seconds,
        )  # fmt: skip
        for line in result.failure_lines:  # the summary: every failure with job, unit, report and reason
            append_log(self.out_dir, "summary", "-", line)
        return result


def run(
    as_of: str | dt.date | None = None,
    *,
    jobs: Sequence[Job] | str | Path | None = None,
    db: str | Path | None = None,
    out_dir: str | Path = REPORTS_DIR,
    notebooks_dir: str | Path | None = None,
    workers: int | None = None,
    dry_run: bool = False,
    since: str | None = None,
    wait: float = 0.0,
    on_plan: Callable[[Plan], None] | None = None,
    on_result: Callable[[Outcome], None] | None = None,
    alert_command: str | None = None,
) -> RunResult:
    """Render every due report not yet made, oldest first; see the module docstring.

    `workers` defaults to the available cores (capped by the number of reports).
    `dry_run` plans and renders nothing (and takes no lock). `wait` is how long to wait for another run's
    lock before returning with `busy` set. Never raises for a failing report: see `RunResult.failed` and
    `RunResult.exit_code`. Raises ScheduleError for a broken jobs file or an unusable database.
    """
    from egov_metrics.reports.render import NOTEBOOKS_DIR

    refuse_broken_planner_catalog()
    started, started_at = time.perf_counter(), now()
    job_list = tuple(jobs) if isinstance(jobs, (list, tuple)) else load_jobs(jobs)  # type: ignore[arg-type]
    out_dir = Path(out_dir).resolve()
    db_path = Path(db if db is not None else default_db_path()).resolve()
    if dry_run:
        return RunResult(plan(as_of, jobs=job_list, db=db_path, out_dir=out_dir, since=since), dry_run=True)
    notebooks = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    if not notebooks.is_dir():
        raise ScheduleError(f"no notebooks folder {notebooks}", "pass --notebooks DIR (notebooks_dir=)")
    out_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(out_dir)
    if not lock.acquire(wait):
        return _busy(lock, out_dir)
    try:
        remove_stale_tmp(out_dir)
        the_plan = plan(as_of, jobs=job_list, db=db_path, out_dir=out_dir, since=since)
        runner = _Runner(out_dir, notebooks, db_path, on_result=on_result)
        result = runner.run(the_plan, workers, on_plan, alert_command, started)
        write_state(out_dir, result, started_at)
        return result
    finally:
        lock.release()


def _busy(lock: RunLock, out_dir: Path) -> RunResult:
    """The result of a run that found another one holding the lock: who, since when, whether it looks hung."""
    holder = lock.holder()
    since_text = holder.get("started_at", "")
    busy = f"another schedule run (pid {holder.get('pid', '?')}, started {since_text or '?'}) is active"
    hung = False
    with contextlib.suppress(ValueError, TypeError):
        hung = dt.datetime.now().astimezone() - dt.datetime.fromisoformat(since_text) > HUNG_AFTER
    append_log(out_dir, "busy", "-", busy + (" (probably hung)" if hung else ""))
    return RunResult(None, busy=busy, hung=hung)
