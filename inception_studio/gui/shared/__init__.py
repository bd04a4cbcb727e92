"""What every workspace shares: the spec document, file session, settings, worker threads, actions,
theme, and the panel/workspace registry."""
