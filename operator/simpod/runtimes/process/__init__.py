"""The `process` runtime: containers as real Linux processes on the agent's machine."""
