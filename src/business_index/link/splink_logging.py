"""How loud Splink may be: warnings and errors only, so `--json` output stays clean and builds
print our own progress, not Splink's training diary."""

import logging

SPLINK_LOG_LEVEL = logging.ERROR


def quiet_splink() -> None:
    logging.getLogger("splink").setLevel(SPLINK_LOG_LEVEL)
