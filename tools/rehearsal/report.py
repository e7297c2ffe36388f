"""How the rehearsal speaks: one line per step, and a Failure that names what failed."""

import sys


class Failure(Exception):
    """A rehearsal step that found a defect: where, and what, in words a reader can act on."""

    def __init__(self, where, what):
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


def step(text):
    print(f"==> {text}", flush=True)


def line(text=""):
    print(f"    {text}" if text else "", flush=True)


def problem(text):
    print(f"  ✗ {text}", file=sys.stdout, flush=True)
