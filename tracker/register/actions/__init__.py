"""Action items under risk mitigation and contingency plans and under issues."""
