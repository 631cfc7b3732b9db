"""Delivery channels behind one protocol, and the rate limits they share."""
