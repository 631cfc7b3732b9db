"""What one whole wizard flow asks the database: the shop and its cards are read once, when the
wizard opens, and kept with the draft; the steps after that only re-check the seat and count."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from models.enums import StaffRole
from tests import factories
from tests.handlers.wizard.test_flow import customers, send_it, staff_chat, write_campaign

_TABLE = re.compile(r'\bFROM\s+"?(merchant|card)"?(?:\s|$)', re.IGNORECASE)


class _Queries(logging.Handler):
    """Every statement Tortoise sends, as its debug log names it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())

    def reading(self, table: str) -> int:
        return sum(
            1
            for sql in self.statements
            if sql.lstrip().upper().startswith("SELECT")
            and any(m.lower() == table for m in _TABLE.findall(sql))
        )


@contextmanager
def counted() -> Iterator[_Queries]:
    logger = logging.getLogger("tortoise.db_client")
    queries = _Queries()
    level = logger.level
    logger.addHandler(queries)
    logger.setLevel(logging.DEBUG)
    try:
        yield queries
    finally:
        logger.removeHandler(queries)
        logger.setLevel(level)


async def test_a_whole_flow_reads_the_shop_and_its_cards_once(new_chat: Any) -> None:
    shop = await factories.merchant("Kafe Lviv")
    owner = await staff_chat(new_chat, shop, StaffRole.OWNER, "Marta")
    await customers(new_chat, shop, 2)
    with counted() as queries:  # from /admin to the confirmed campaign
        summary = await write_campaign(owner)
        await owner.press_label(summary, "Send me a test")
        await send_it(owner, summary)
    merchant, card = queries.reading("merchant"), queries.reading("card")
    # The shop: twice for /admin (whether its set-up is done; the week's figures, which carry
    # its name), once when the wizard opens, and when the service creates the draft (its time
    # zone names it). The card: when the wizard opens (the shop's active cards) and when the
    # service checks it is one of them (the draft, then the send).
    assert (merchant, card) == (4, 3), f"{len(queries.statements)} statements in all"
