"""The scoring errors: counts or a published file that cannot be scored, a method file with problems."""

from __future__ import annotations

from egov_metrics.errors import EgovError, ProblemsError


class ScoringError(EgovError):
    """Counts, peers or a published file cannot be scored as given."""


class MethodError(ScoringError, ProblemsError):
    """A method file has problems; `problems` holds every one with its file and line."""

    subject = "the scoring method"
    fix = "fix the lines named above; egov_metrics/methods/portal_2026.yaml is a complete example"
