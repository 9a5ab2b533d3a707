"""The scoring errors: counts or a published file that cannot be scored, a method file with problems."""

from __future__ import annotations

from egov_metrics.errors import EgovError
from egov_metrics.yamlutil import Problem


class ScoringError(EgovError):
    """Counts, peers or a published file cannot be scored as given."""


class MethodError(ScoringError):
    """A method file has problems; `problems` holds every one with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listing = "\n".join(str(p) for p in problems)
        super().__init__(
            f"{len(problems)} problem(s) in the scoring method:\n{listing}",
            "fix the lines named above; egov_metrics/methods/portal_2026.yaml is a complete example",
        )
