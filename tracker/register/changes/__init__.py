"""Change requests: the contract change control, a register kind whose decision moves deliverables."""
