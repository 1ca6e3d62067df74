"""Residents: one person, several channel identities, their preferences and adjustments."""
