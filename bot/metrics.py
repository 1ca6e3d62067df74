"""In-process counters of the running bot, read by the health endpoint (:mod:`bot.health`).

Counters live in the process and start from zero at each start, as Prometheus expects of a
counter; what lives in the database (outbox depth, dead letters, overdue complaints) is read at
scrape time instead, so every process reports the same figures for those.
"""

from __future__ import annotations

from collections import Counter


class Metrics:
    """Messages in, out and failed to send, per channel name."""

    def __init__(self) -> None:
        self.messages_in: Counter[str] = Counter()
        self.messages_out: Counter[str] = Counter()
        self.send_failures: Counter[str] = Counter()

    def received(self, channel: str) -> None:
        """Count one inbound message on ``channel``."""
        self.messages_in[channel] += 1

    def sent(self, channel: str) -> None:
        """Count one message delivered on ``channel``."""
        self.messages_out[channel] += 1

    def failed(self, channel: str) -> None:
        """Count one failed attempt to send on ``channel`` (retried or given up)."""
        self.send_failures[channel] += 1
