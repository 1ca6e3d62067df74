"""Tests of the core.outbox package."""
