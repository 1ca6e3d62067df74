"""Tests of the channel adapters."""
