"""The risk register: risks, their scores and score history, review cadence, heat map."""
