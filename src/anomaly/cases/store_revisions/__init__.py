"""Alembic revisions of the case store's PostgreSQL schema (``cases.store_postgresql``).

Each revision in ``versions/`` is one step, applied in order by
``migrate_to_head`` when a store is opened. A new step is a new module there,
its ``down_revision`` the last one's id. The DuckDB store has its own steps
(``cases.store_migration``); both keep the same tables and columns.
"""
