"""A run folder: the catalogue of its files, reading it back, the stages over it."""
