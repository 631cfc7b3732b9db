from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

from bot.config import Settings
from bot.factory import build_fsm_storage
from tests.conftest import REDIS_URL


async def test_without_redis_conversations_live_in_memory() -> None:
    storage = build_fsm_storage(Settings(redis_url=None))

    assert isinstance(storage, MemoryStorage)
    await storage.close()


async def test_with_redis_a_conversation_survives_a_new_storage_instance(
    redis_client: Redis,
) -> None:
    """What a restart or a second replica sees: the state written by the first one."""
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    first = build_fsm_storage(Settings(redis_url=REDIS_URL))
    assert isinstance(first, RedisStorage)
    await first.set_state(key, "CampaignWizard:push_text")
    await first.set_data(key, {"card_id": 7})
    await first.close()

    second = build_fsm_storage(Settings(redis_url=REDIS_URL))
    try:
        assert await second.get_state(key) == "CampaignWizard:push_text"
        assert await second.get_data(key) == {"card_id": 7}
    finally:
        await second.close()
    assert await redis_client.exists("fsm:1:42:42:default:state") == 1
