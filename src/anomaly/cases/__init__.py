"""Findings grouped into ranked cases, the case store across runs, the files of a run."""
