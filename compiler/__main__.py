"""`python -m envc` is the `envc` command."""
from envc.cli import main

raise SystemExit(main())
