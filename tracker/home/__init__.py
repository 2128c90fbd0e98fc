"""The "My work" home page."""
