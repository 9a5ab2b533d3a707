"""One base error with a hint line; specific subclasses for each step of the flow."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from egov_metrics.yamlutil import Problem


class EgovError(Exception):
    """Base error of egov-metrics. `str()` gives the message followed by a `Hint:` line when there is one."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:  # pragma: no cover - trivial
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class ProblemsError(EgovError):
    """Every problem found in one input at once; `problems` holds them (`Problem`s with file and line, or text).

    The one "error with a list of problems": a subclass names what the problems are in (`subject`) and the
    default `Hint:` (`fix`); it adds no plumbing of its own. The message is the headline and one line per problem.
    """

    subject: ClassVar[str] = "the input"
    fix: ClassVar[str] = "fix the lines named above"
    #: The first line of the message; `{n}` is the number of problems, `{subject}` what they are in.
    headline: ClassVar[str] = "{n} problem(s) in {subject}"

    def __init__(
        self, problems: Sequence[Problem | str], hint: str | None = None, *, subject: str | None = None
    ) -> None:
        self.problems = list(problems)
        listing = "\n".join(str(p) for p in self.problems)
        head = self.headline.format(n=len(self.problems), subject=subject or self.subject)
        super().__init__(f"{head}:\n{listing}", hint or self.fix)


class SchemaError(EgovError):
    """The database is missing, of another schema version, or not an egov-metrics database."""


class CalendarError(EgovError):
    """The working-day calendar or its overrides file is invalid."""


class OrgUnitError(EgovError):
    """Org-unit reference data is inconsistent (unknown parent, cycle, overlapping validity)."""


class OrgReferenceError(OrgUnitError, ProblemsError):
    """The org-unit reference files have problems; `problems` lists every one with file and line."""

    subject = "the org-unit reference data"
    fix = "fix the lines above; dates are YYYY-MM-DD and validity is half-open [valid_from, valid_to)"


class DemoError(EgovError):
    """The demo database cannot be built with the given settings."""


class IngestError(EgovError):
    """A file cannot be read or mapped at all (as opposed to rows that are quarantined)."""


class UnknownNameError(EgovError):
    """A name looked up in a registry does not exist."""

    @classmethod
    def from_choices(cls, what: str, name: str, choices: Iterable[str]) -> UnknownNameError:
        known = sorted(choices)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        return cls(f"unknown {what} {name!r}", hint + f"known: {', '.join(known)}")
