"""The accepted records as the rules read them: the snapshot, stays, id codes, institutions."""
