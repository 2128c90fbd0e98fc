"""Shared plumbing: database, rendering, errors, forms, security middleware."""
