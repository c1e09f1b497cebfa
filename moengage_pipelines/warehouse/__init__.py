"""warehouse stage of moengage-pipelines."""
