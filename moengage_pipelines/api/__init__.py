"""api stage of moengage-pipelines."""
