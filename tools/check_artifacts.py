#!/usr/bin/env python3
"""Checks that `sam build` produced one aarch64 Linux `bootstrap` per function.

Usage: check_artifacts.py BUILD_DIR FUNCTION_LOGICAL_ID...
"""

import pathlib
import struct
import sys

EM_AARCH64 = 183


def machine(path):
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    # e_machine: 16 bits at offset 18, little-endian on every Linux target here.
    return struct.unpack_from("<H", header, 18)[0]


def main():
    build, functions = pathlib.Path(sys.argv[1]), sys.argv[2:]
    bad = 0
    for function in functions:
        bootstrap = build / function / "bootstrap"
        if not bootstrap.is_file():
            print(f"FAIL {bootstrap}: missing")
            bad += 1
        elif machine(bootstrap) != EM_AARCH64:
            print(f"FAIL {bootstrap}: not an aarch64 ELF executable")
            bad += 1
        else:
            print(f"ok   {bootstrap}: aarch64, {bootstrap.stat().st_size:,} bytes")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
