"""One base error with a hint line; specific subclasses for each step of the flow."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EgovError(Exception):
    """Base error of egov-metrics. `str()` gives the message followed by a `Hint:` line when there is one."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:  # pragma: no cover - trivial
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class SchemaError(EgovError):
    """The database is missing, of another schema version, or not an egov-metrics database."""


class CalendarError(EgovError):
    """The working-day calendar or its overrides file is invalid."""


class OrgUnitError(EgovError):
    """Org-unit reference data is inconsistent (unknown parent, cycle, overlapping validity)."""


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
