# Helpers for tests/e2e/bench*.bats. Everything that changes sysctls or makes TIME-WAIT in bulk
# runs inside a private network namespace: `unshare -n` ones die with their process; named ones
# (veth pairs) are removed by bench_ns_cleanup, which teardown() calls even after a failure.

# bench_in_ns SYSCTL=VALUE... -- COMMAND...: run COMMAND in a fresh netns with lo up.
bench_in_ns() {
	local sets=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do sets+=("$1"); shift; done
	shift
	unshare -n bash -c '
		set -e
		ip link set lo up
		while [ "$1" != "--" ]; do sysctl -q -w "$1"; shift; done
		shift
		exec "$@"' bash "${sets[@]}" -- "$@"
}

bench_need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	unshare -n true 2>/dev/null || skip "cannot create a network namespace here"
}

# jq over the JSON in $output
bj() { printf '%s\n' "$output" | jq -r "$1"; }

# Named namespaces for the veth tests: twk-bench-$$-a and -b joined by a veth pair,
# 10.77.$((RANDOM%200)).1/24 (a) and .2/24 (b). Sets BENCH_NS_A, BENCH_NS_B, BENCH_IP_A/B.
bench_veth_setup() {
	local n=$(( $$ % 200 + 20 ))
	BENCH_NS_A=twk-bench-$$-a
	BENCH_NS_B=twk-bench-$$-b
	BENCH_IP_A=10.77.$n.1
	BENCH_IP_B=10.77.$n.2
	ip netns add "$BENCH_NS_A"
	ip netns add "$BENCH_NS_B"
	ip link add twkb$$a type veth peer name twkb$$b
	ip link set twkb$$a netns "$BENCH_NS_A"
	ip link set twkb$$b netns "$BENCH_NS_B"
	ip -n "$BENCH_NS_A" addr add "$BENCH_IP_A/24" dev twkb$$a
	ip -n "$BENCH_NS_B" addr add "$BENCH_IP_B/24" dev twkb$$b
	for ns in "$BENCH_NS_A" "$BENCH_NS_B"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$BENCH_NS_A" link set twkb$$a up
	ip -n "$BENCH_NS_B" link set twkb$$b up
}

bench_ns_cleanup() {
	if [ -n "${BENCH_PID:-}" ]; then
		kill "$BENCH_PID" 2>/dev/null || true
		wait "$BENCH_PID" 2>/dev/null || true
		BENCH_PID=
	fi
	[ -n "${BENCH_NS_A:-}" ] && ip netns del "$BENCH_NS_A" 2>/dev/null
	[ -n "${BENCH_NS_B:-}" ] && ip netns del "$BENCH_NS_B" 2>/dev/null
	BENCH_NS_A= BENCH_NS_B=
	return 0
}

# Wait (bounded, 5 s) until FILE contains "listening on"; print the ADDR:PORT.
bench_wait_listen() {
	local f=$1 i
	for i in $(seq 50); do
		if grep -q 'listening on' "$f" 2>/dev/null; then
			sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$f" | head -1
			return 0
		fi
		sleep 0.1
	done
	return 1
}
