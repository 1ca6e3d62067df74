"""The transactional outbox, inbound receipts and dead letters: nothing lost, nothing doubled."""
