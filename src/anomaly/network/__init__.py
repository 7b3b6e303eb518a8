"""The visitor network across convicts and institutions (docs/network.md)."""
