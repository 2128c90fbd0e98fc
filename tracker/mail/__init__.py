"""Mail: who is told what, by e-mail, and the messages themselves."""
