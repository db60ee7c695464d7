"""What users call: the `envc` command (cli) and the Azure ML-style Python API (api)."""
