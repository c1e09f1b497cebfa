"""push stage of moengage-pipelines."""
