"""One base error with a hint line; specific subclasses for each step of the flow."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from egov_metrics.said import Said

if TYPE_CHECKING:
    from egov_metrics.yamlutil import Problem


class EgovError(Exception):
    """Base error of egov-metrics. `str()` gives the message followed by a `Hint:` line when there is one.

    The message and the hint may be given in both languages (`Said`): `message` and `hint` are then the
    English texts, `in_language("vi")` the Vietnamese ones (what the command line prints by default). A text
    given only in English is printed in English in both."""

    def __init__(self, message: str | Said, hint: str | Said | None = None) -> None:
        self.message = message.en if isinstance(message, Said) else message
        self.hint = hint.en if isinstance(hint, Said) else hint
        self.message_vi = message.vi if isinstance(message, Said) else None
        self.hint_vi = hint.vi if isinstance(hint, Said) else None
        super().__init__(str(self))

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.in_language("en")

    def language(self, lang: str) -> str:
        """`lang` if this error is worded in it, else English (an error is printed in one language)."""
        return "vi" if lang == "vi" and self.message_vi is not None else "en"

    def in_language(self, lang: str) -> str:
        """The message and its hint in `lang` ('vi' or 'en'); in English when no Vietnamese message was given."""
        if self.language(lang) == "vi":
            message, hint, label = self.message_vi or self.message, self.hint_vi or self.hint, "Gợi ý"
        else:
            message, hint, label = self.message, self.hint, "Hint"
        return f"{message}\n{label}: {hint}" if hint else message

    def said(self) -> tuple[Said, Said | None]:
        """The message and the hint in both languages (English standing in for a missing Vietnamese text), to
        wrap this error in another one without losing a language."""
        message = Said(self.message_vi or self.message, self.message)
        hint = Said(self.hint_vi or self.hint, self.hint) if self.hint is not None else None
        return message, hint


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
    def from_choices(cls, what: str | Said, name: str, choices: Iterable[str]) -> UnknownNameError:
        """'unknown <what> <name>', with the closest known names; in Vietnamese too when `what` is a `Said`."""
        known = sorted(choices)
        close = difflib.get_close_matches(name, known, n=3)
        shown = ", ".join(repr(c) for c in close)
        en = f"did you mean {shown}? " if close else ""
        if isinstance(what, str):
            return cls(f"unknown {what} {name!r}", en + f"known: {', '.join(known)}")
        vi = f"có phải là {shown}? " if close else ""
        return cls(
            Said(f"không có {what.vi} {name!r}", f"unknown {what.en} {name!r}"),
            Said(vi + f"các tên đã biết: {', '.join(known)}", en + f"known: {', '.join(known)}"),
        )
