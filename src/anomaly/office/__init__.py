"""What protects the office: the one file writer and the office key."""
