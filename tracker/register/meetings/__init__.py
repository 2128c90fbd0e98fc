"""Meeting minutes: who met, on what agenda, what was noted, and the action items and decisions recorded in them."""
