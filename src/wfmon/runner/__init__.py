"""The run engine: executes one workflow's steps and produces an ExecutionResult."""
