"""Updates per second handled end to end through Telegram, beside an echo bot with no work.

Both run against the fake Telegram Bot API server on 127.0.0.1, in the same process and run:

* **baseline**: an aiogram ``Dispatcher`` polling, with one handler that echoes each message;
* **the bot**: the real application (``Application.run``, the code path of
  ``complaints-bot run``) on SQLite: each update is stored in the inbox, handled by the
  engine in one transaction (receipt, resident, conversation, record, outbox), and its reply
  sent by the dispatcher.

Each resident sends one message, so Telegram's one-message-a-second-per-chat limit does not
enter; the bot's overall sending rate is raised to 1000/s so that it measures the work, not the
limit (the default is 25/s, under Telegram's own limit).

    .venv/bin/python -m benchmarks.telegram [--updates 300]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from bot.app import Application
from core.db.engine import sqlite_url
from core.settings import load_settings
from tests.support.fake_telegram import FakeTelegram


def queue_messages(fake: FakeTelegram, count: int, first_chat: int) -> None:
    for i in range(count):
        fake.user_message(chat_id=first_chat + i, text="hello")


async def wait_for_replies(fake: FakeTelegram, count: int, timeout: float) -> None:
    await fake.wait_for(lambda: len(fake.sent_messages()) >= count, timeout=timeout)


async def echo_baseline(count: int) -> float:
    """Updates per second for an aiogram echo bot doing no other work."""
    async with FakeTelegram() as fake:
        bot = Bot(
            fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        )
        dispatcher = Dispatcher(disable_fsm=True)

        @dispatcher.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
        await asyncio.sleep(0.2)  # let polling start
        started = time.perf_counter()
        queue_messages(fake, count, 10_000)
        await wait_for_replies(fake, count, timeout=120)
        elapsed = time.perf_counter() - started
        await dispatcher.stop_polling()
        await polling
        await bot.session.close()
    return count / elapsed


async def bot_rate(count: int, directory: Path) -> float:
    """Updates per second through the whole bot, reply included."""
    async with FakeTelegram() as fake:
        settings = load_settings(
            database_url=sqlite_url(directory / "bench.sqlite3"),
            data_dir=directory,
            telegram={
                "token": fake.token,
                "api_url": fake.base_url,
                "messages_per_second": 1000,
            },
        )
        app = Application(settings)
        stop = asyncio.Event()
        running = asyncio.create_task(app.run(stop, out=io.StringIO()))
        await fake.wait_for(lambda: bool(fake.calls_to("getUpdates")), timeout=30)
        started = time.perf_counter()
        queue_messages(fake, count, 20_000)
        await wait_for_replies(fake, count, timeout=600)
        elapsed = time.perf_counter() - started
        stop.set()
        await running
        await app.aclose()
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    baseline = await echo_baseline(args.updates)
    with tempfile.TemporaryDirectory() as directory:
        rate = await bot_rate(args.updates, Path(directory))
    print(f"updates: {args.updates} (one message each from as many residents)")
    print(f"bot:      {rate:8.1f} updates/s  (inbox, engine on SQLite, reply sent)")
    print(f"baseline: {baseline:8.1f} updates/s  (aiogram echo bot, no work)")
    print(f"ratio:    {rate / baseline:8.3f}  (bot / baseline)")


if __name__ == "__main__":
    asyncio.run(main())
