#!/usr/bin/env python3
"""Prints the .cpp files under the given folders that do not include LibTorch, directly or
through any of our own headers (quoted includes, resolved from the repository root and the
file's folder). clang-14 cannot parse LibTorch 1.13's headers in C++20 against GCC 12's
libstdc++, so clang-tidy (scripts/lint.sh) runs on these."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
TORCH = ("torch/", "ATen/", "c10/")
memo = {}


def uses_torch(path, stack=()):
    if path in memo:
        return memo[path]
    if path in stack:
        return False
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return False
    result = False
    for kind, name in INCLUDE.findall(text):
        if name.startswith(TORCH):
            result = True
            break
        if kind == '"':
            for base in (ROOT, os.path.dirname(path)):
                candidate = os.path.normpath(os.path.join(base, name))
                if os.path.isfile(candidate):
                    if uses_torch(candidate, stack + (path,)):
                        result = True
                    break
        if result:
            break
    memo[path] = result
    return result


files = subprocess.run(["git", "ls-files", *[f"{d}/*.cpp" for d in sys.argv[1:]]], cwd=ROOT,
                       capture_output=True, text=True, check=True).stdout.split()
for f in files:
    if not uses_torch(os.path.join(ROOT, f)):
        print(f)
