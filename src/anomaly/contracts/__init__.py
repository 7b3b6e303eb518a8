"""The data contracts: GX suites, the companion columns they check, validation and its outputs."""
