"""The project register: risks, issues and their action items."""
