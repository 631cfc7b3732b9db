"""What a customer sees in a messenger, built once and rendered per platform.

A screen is text, an optional image and actions with ids; Telegram, Viber and WhatsApp each
draw it within their own limits, and a pressed action comes back as the same id everywhere.
"""
