"""`python -m etholoop.cli`, as the `etholoop` script."""

from etholoop.cli import main

main()
