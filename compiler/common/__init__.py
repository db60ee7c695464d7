"""The bottom layer: utilities every other layer may use (records, diagnostics, escaping, host and
in-image paths, digests, package-spec parsers, the schema's facts). Imports nothing above it."""
