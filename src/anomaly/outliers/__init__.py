"""Peer-group outliers: features from the records, the PyOD ensemble, the detectors."""
