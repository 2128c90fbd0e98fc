"""Projects and memberships."""
