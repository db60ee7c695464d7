"""`python -m envc` is the `envc` command."""
from envc.cli import run

raise SystemExit(run())
