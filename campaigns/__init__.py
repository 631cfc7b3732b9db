"""Campaigns: composing, audiences, the delivery outbox and its workers, statistics."""
