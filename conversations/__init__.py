"""The channel-neutral dialogue engine."""
