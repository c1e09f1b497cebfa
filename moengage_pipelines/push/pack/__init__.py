"""Pack: validated elements → request bodies as large as MoEngage allows, on the exact bytes."""
