# Helpers for doctor end-to-end tests. Every test runs in private network namespaces:
# `unshare -n` (dies with its process) or `ip netns add twk-doc-<pid>-*` removed in teardown.

CHURN="$TWKIT_BUILD/tests/helpers/tw_churn"
# Inside in_ns: wait (up to 5 s) until N TIME-WAIT exist: the last FINs may still be in flight.
WAIT_TW='wait_tw() { for _ in $(seq 100); do [ $(ss -Htan state time-wait | wc -l) -ge $1 ] && return 0; sleep 0.05; done; return 1; }; wait_tw'

# Run a bash snippet in a fresh network namespace with lo up.
in_ns() {
	unshare -n bash -c "ip link set lo up; $1"
}

# Two namespaces joined by a veth pair: client 192.0.2.1, server 192.0.2.2.
make_pair() {
	NS_C="twk-doc-$$-c"
	NS_S="twk-doc-$$-s"
	ip netns add "$NS_C"
	ip netns add "$NS_S"
	ip link add twkdc$$ netns "$NS_C" type veth peer name twkds$$ netns "$NS_S"
	ip -n "$NS_C" addr add 192.0.2.1/24 dev twkdc$$
	ip -n "$NS_S" addr add 192.0.2.2/24 dev twkds$$
	ip -n "$NS_C" link set twkdc$$ up
	ip -n "$NS_S" link set twkds$$ up
	ip -n "$NS_C" link set lo up
	ip -n "$NS_S" link set lo up
}

drop_pair() {
	[ -n "${BG_PID:-}" ] && kill "$BG_PID" 2>/dev/null && wait "$BG_PID" 2>/dev/null
	[ -n "${NS_C:-}" ] && ip netns del "$NS_C" 2>/dev/null
	[ -n "${NS_S:-}" ] && ip netns del "$NS_S" 2>/dev/null
	true
}
