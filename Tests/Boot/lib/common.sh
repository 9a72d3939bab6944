# What every part of the boot test shares: failing with a reason, and the per-scenario record of
# boots and results that the summary table is made from.

# fail MESSAGE: ends the current scenario (each runs in its own subshell) with a reason.
fail() {
    echo "FAILED: $*" >&2
    exit 1
}

# expect DESCRIPTION ACTUAL WANTED
expect_equal() {
    if [ "$2" = "$3" ]; then
        echo "    ok: $1: $2"
    else
        fail "$1: got '$2', expected '$3'"
    fi
}

note() { echo "    $*"; }

# The number of real boots of the scenario running in this process, kept in a file because the
# scenario's steps run in subshells.
count_boot() { echo boot >> "$scenario_dir/boots"; }
boots_so_far() { if [ -f "$scenario_dir/boots" ]; then wc -l < "$scenario_dir/boots"; else echo 0; fi; }

# skip_or_fail_missing TEST MISSING...: nothing when nothing is missing; else the test is skipped
# (exit 0), or fails when integration tests are mandatory (TANDEM_REQUIRE_INTEGRATION=1, as in
# CI).
skip_or_fail_missing() {
    local test=$1
    shift
    [ $# -gt 0 ] || return 0
    if [ "${TANDEM_REQUIRE_INTEGRATION:-}" = 1 ]; then
        echo "$test: FAILED: missing $*" >&2
        exit 1
    fi
    echo "$test: skipped: missing $*"
    exit 0
}
