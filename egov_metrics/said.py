"""`Said`: one message in both languages of the workbench (Vietnamese and English). It imports nothing of
the package, so that every module can word its messages with it, the errors included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Said:
    """One message in both languages of the workbench: `said("vi")`, `said.format(n=3)`, `a + b`."""

    vi: str
    en: str

    def __call__(self, lang: str) -> str:
        if lang not in ("vi", "en"):
            from egov_metrics.i18n import check_lang

            check_lang(lang)  # raises, naming the languages
        return self.vi if lang == "vi" else self.en

    def format(self, **values: object) -> Said:
        """Both texts with `{name}` filled in (the same values in both languages)."""
        return Said(self.vi.format(**values), self.en.format(**values))

    def map(self, change: Callable[[str], str]) -> Said:
        """Both texts passed through `change` (e.g. made into SQL literals)."""
        return Said(change(self.vi), change(self.en))

    def __add__(self, other: Said) -> Said:
        return Said(self.vi + other.vi, self.en + other.en)
