"""Viber's REST bot API: the client, the renderer of screens and messages, the channel."""
