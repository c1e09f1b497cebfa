"""emulator stage of moengage-pipelines."""
