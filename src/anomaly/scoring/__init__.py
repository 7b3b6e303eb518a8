"""From a snapshot to scored findings: the rule engine, partitions, rule health, recency."""
