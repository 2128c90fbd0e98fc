"""Users, login, API tokens."""
