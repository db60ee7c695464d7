"""envc's version: in every Dockerfile header and content hash, so an upgrade never reuses an old image."""

__version__ = "0.1.0"
