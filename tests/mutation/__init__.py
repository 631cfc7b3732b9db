"""Mutation testing tools for `make mutation` (not collected as tests, not run in CI)."""
