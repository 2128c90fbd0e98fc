"""The saved reports library: ad hoc queries over deliverables, risks, issues and action items, saved and shared."""
