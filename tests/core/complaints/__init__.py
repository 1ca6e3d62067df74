"""Tests of the core/complaints package."""
