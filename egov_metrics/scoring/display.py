"""How a reader sees a method: its version in the reader's language, never a code."""

from __future__ import annotations


def method_display(label: str, lang: str = "vi") -> str:
    """The reader's name of a method stamp `<id>@<version>` (as scores carry it): 'Phương pháp <version>'."""
    _, _, version = label.partition("@")
    return f"{'Phương pháp' if lang == 'vi' else 'Method'} {version or label}"
