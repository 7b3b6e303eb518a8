"""What leaves the office: the agency report, its figures, pseudonymisation."""
