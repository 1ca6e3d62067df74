"""The complaints bot: the domain, with no knowledge of any channel."""
