"""sources stage of moengage-pipelines."""
