"""Tests of the core/db package."""
