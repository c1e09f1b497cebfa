"""pull stage of moengage-pipelines."""
