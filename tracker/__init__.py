"""Contractor deliverable acceptance, risk/issue register and status reporting for PMOs."""
