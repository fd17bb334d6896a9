"""Runs the official CompShare CLI (compshare-cli from PyPI) against the server at $OCS_URL.

The CLI has no base-URL setting: it hard-codes https://api.compshare.cn in its config module, read
each time it builds an SDK client. This wrapper replaces that one constant, then runs the CLI's own
entry point with the arguments given; nothing else of the CLI is changed.
"""

import os
import sys

import compshare_cli.config as config

config.DEFAULT_BASE_URL = os.environ["OCS_URL"]

from compshare_cli.cli import main  # noqa: E402  (after the patch, on purpose)

if __name__ == "__main__":
    main(sys.argv[1:])
