"""The one base of every definition read from a file: frozen (hashable, never edited in place), unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """A validated definition: immutable, and a key the schema does not know is an error (`extra="forbid"`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
