"""The decision log: decisions taken on the project, who took them, on what, and where they came from."""
