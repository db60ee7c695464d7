"""`python -m envc` is the `envc` command."""
from envc.frontends.cli import run

raise SystemExit(run())
