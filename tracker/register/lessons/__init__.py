"""Lessons learned: what happened, what it did, what to do next time; found across projects by those who may read them."""
