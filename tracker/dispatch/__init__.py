"""Side effects through one seam: the audit trail as the outbox, read by one dispatcher."""
