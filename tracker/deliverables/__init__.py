"""Deliverables: acceptance criteria, submissions, reviews, comments, decisions."""
