"""Prefect flows that run the anomaly library on registry drops."""
