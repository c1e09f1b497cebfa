"""Definitions loaded from this folder by ``dg.load_from_defs_folder``."""
