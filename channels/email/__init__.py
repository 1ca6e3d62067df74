"""The email channel: the complaints mailbox read over IMAP, replies sent over SMTP."""
