"""Pixels: text shaped for every script, card and pass images, charts."""
