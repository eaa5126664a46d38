# Helpers for tests/e2e/trace.bats. twkit trace runs on the host (eBPF sees every namespace)
# with --netns, while the traffic runs in named namespaces twk-trace-$$-X made here and
# removed by trace_cleanup (teardown), also after a failure.

# Skip unless trace can run here; the reason is twkit's own exit-3 message.
trace_need() {
	[ "$(id -u)" = 0 ] || skip "needs root (eBPF and network namespaces)"
	[ -r /sys/kernel/btf/vmlinux ] || skip "no kernel BTF (/sys/kernel/btf/vmlinux)"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace here"
}

# trace_ns a|b [SYSCTL=VALUE...]: create twk-trace-$$-a (or -b) with lo up; sets TRACE_NS.
trace_ns() {
	local ns=twk-trace-$$-$1
	shift
	ip netns add "$ns"
	TRACE_NS=$ns
	ip -n "$ns" link set lo up
	[ $# -eq 0 ] || ip netns exec "$ns" sysctl -q -w "$@" >/dev/null
}

# trace_start NS [twkit trace options...]: twkit trace --json --netns NS in the background
# until trace_stop; waits (bounded, 20 s) for it to attach. Skips with trace's own message
# when it exits 3 (no root, no BTF, a missing tracepoint).
trace_start() {
	local ns=$1 i
	shift
	TRACE_OUT=$BATS_TEST_TMPDIR/trace.json
	TRACE_ERR=$BATS_TEST_TMPDIR/trace.err
	"$TWKIT" trace --json --top 1000 --netns "$ns" "$@" >"$TRACE_OUT" 2>"$TRACE_ERR" &
	TRACE_PID=$!
	for i in $(seq 200); do
		grep -q 'attached' "$TRACE_ERR" 2>/dev/null && return 0
		if ! kill -0 "$TRACE_PID" 2>/dev/null; then
			wait "$TRACE_PID"
			local rc=$?
			TRACE_PID=
			[ $rc -eq 3 ] && skip "$(cat "$TRACE_ERR")"
			cat "$TRACE_ERR" >&2
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# trace_stop: SIGINT, wait for the report; $output holds the JSON.
trace_stop() {
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID"
	local rc=$?
	TRACE_PID=
	output=$(cat "$TRACE_OUT")
	[ $rc -eq 0 ] || { cat "$TRACE_ERR" >&2; return 1; }
}

trace_cleanup() {
	local p ns
	for p in "${TRACE_PID:-}" "${BENCH_PID:-}"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	TRACE_PID= BENCH_PID=
	for ns in a b; do
		ip netns del "twk-trace-$$-$ns" 2>/dev/null || true
	done
	return 0
}

# jq over the JSON in $output
tj() { printf '%s\n' "$output" | jq -r "$1"; }
