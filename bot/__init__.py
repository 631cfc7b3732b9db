"""Composition root: configuration, wiring and the ``stampbot`` command line."""
