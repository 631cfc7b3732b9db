"""aiohttp apps: Telegram's webhook, the card page, pass downloads, email links, PassKit."""
