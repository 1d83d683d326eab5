#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, builds,
# runs the unit and integration tests and the man page lint, and ends with
# one line: `N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tests/deps.sh || { echo "deps: installation failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

log=$(mktemp)
export PXESUITE_SKIP_LOG
PXESUITE_SKIP_LOG=$(mktemp)
: > "$PXESUITE_SKIP_LOG"

cargo build --locked --release --bins 2>&1 | tail -n 3
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
cargo_status=${PIPESTATUS[0]}

passed=0; failed=0; ignored=0
while read -r p f i; do
  passed=$((passed + p)); failed=$((failed + f)); ignored=$((ignored + i))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed; \([0-9]*\) ignored.*/\1 \2 \3/p' "$log")

# Tests that could not run report `ok` to cargo and record themselves here.
skipped=$(wc -l < "$PXESUITE_SKIP_LOG")
passed=$((passed - skipped))
skipped=$((skipped + ignored))
if [ -s "$PXESUITE_SKIP_LOG" ]; then echo "skipped:"; sed 's/^/  /' "$PXESUITE_SKIP_LOG"; fi
if [ "$ignored" -gt 0 ]; then echo "ignored (benchmarks run by tests/bench): $ignored"; fi

# Man pages must be clean under mandoc's lint at warning level.
shopt -s nullglob
pages=(man/*.[0-9])
if [ ${#pages[@]} -gt 0 ]; then
  if mandoc -T lint -W warning "${pages[@]}"; then
    passed=$((passed + 1)); echo "mandoc lint: ok (${#pages[@]} pages)"
  else
    failed=$((failed + 1)); echo "mandoc lint: FAILED"
  fi
fi

if [ "$cargo_status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "cargo test exited $cargo_status without a failed test (build error?)"
  failed=1
fi
rm -f "$log" "$PXESUITE_SKIP_LOG"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
