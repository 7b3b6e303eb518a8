"""Anti-corruption anomaly detection over penal-system registries."""

__version__ = "0.1.0"
