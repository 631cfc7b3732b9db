"""The campaign wizard: the flow (its router), its screens and the draft it builds."""

from handlers.wizard.flow import router

__all__ = ["router"]
