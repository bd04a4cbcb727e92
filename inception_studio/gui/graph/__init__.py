"""The block graph drawing: layout (pure Python), its Qt items, the interactive view and export."""
