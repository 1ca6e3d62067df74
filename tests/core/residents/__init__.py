"""Tests of the core/residents package."""
