"""Pure descriptions of account data: attribute kinds and how they appear in replies."""
