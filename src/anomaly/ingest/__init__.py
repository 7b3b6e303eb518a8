"""Reading a drop: the record schema, table files, cells, the typed load."""
