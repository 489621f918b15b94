#!/bin/bash
# Build Hostel and run the whole test suite (unit tests, test guests and
# Linux end-to-end tests on KVM), then print one summary line:
#   N passed, N failed, N skipped
# Exit status: 0 when nothing failed.
# Environment: BUILD (meson build directory, default ./build).
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" || { echo "0 passed, 1 failed"; exit 1; }
else
    # A build directory made by the README's run command has tests off.
    meson configure "$BUILD" -Dtests=true || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$BUILD"; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

meson test -C "$BUILD" --print-errorlogs --num-processes 2
rc=$?

python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
except OSError:
    failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $rc
