#!/usr/bin/env bash
# make bench: see bench.py. Loop devices need root.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
    echo "make bench needs root for loop devices" >&2
    exit 1
fi
exec python3 "$(dirname "$0")/bench.py" "$@"
