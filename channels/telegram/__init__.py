"""The Telegram channel: residents chat with the bot; staff get handovers in a staff chat.

``render`` and ``translate`` are the pure half (no network): an outbound message becomes
``sendMessage`` parameters, and an aiogram ``Update`` becomes an inbound message. The adapter
that polls or serves the webhook, and sends, is built on them.
"""
