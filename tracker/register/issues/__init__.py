"""The issue register: issues, their decision log, escalation, and risk-to-issue conversion."""
