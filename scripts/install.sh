#!/usr/bin/env bash
# Installs a built `rigor` and what it reads at run time under a prefix, the layout `make
# install` and the release tarball share:
#   <prefix>/bin/rigor
#   <prefix>/share/rigor/sdk/        the Python agent SDK (rigor finds it beside its binary)
#   <prefix>/share/rigor/tasks_sdk/  the Python task SDK (worlds in Python, TraceCore task folders)
#   <prefix>/share/doc/rigor/        README.md and the normative spec/*.md
# Usage: scripts/install.sh <built rigor binary> <prefix>
# Used by `make install`, `make dist` and the end-to-end tests (with a debug binary).
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 <rigor binary> <prefix>" >&2; exit 2; fi
binary=$1
prefix=$2
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$binary" ] || { echo "install: '$binary' is not a built rigor (run make release or make build)" >&2; exit 2; }
install -d "$prefix/bin" "$prefix/share/rigor/sdk" "$prefix/share/rigor/tasks_sdk" "$prefix/share/doc/rigor/spec"
install -m 0755 "$binary" "$prefix/bin/rigor"
install -m 0644 "$root"/Agents/sdk/*.py "$root/Agents/sdk/README.md" "$prefix/share/rigor/sdk/"
install -m 0644 "$root"/Agents/tasks_sdk/*.py "$root/Agents/tasks_sdk/README.md" "$prefix/share/rigor/tasks_sdk/"
install -m 0644 "$root/README.md" "$prefix/share/doc/rigor/"
install -m 0644 "$root"/spec/*.md "$prefix/share/doc/rigor/spec/"
echo "installed $prefix/bin/rigor (SDK in $prefix/share/rigor/sdk)"
