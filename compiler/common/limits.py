"""Sizes past which an input is not an environment spec: refused unread, before any parsing."""

MAX_SPEC_BYTES = 4 * 1024 * 1024
