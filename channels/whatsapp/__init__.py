"""WhatsApp Cloud API: the client, its errors as outcomes, the renderer, the channel."""
