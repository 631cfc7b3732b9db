"""Automations: a trigger enrols a person, a chain of steps runs for them, once each."""
