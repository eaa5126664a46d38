#!/usr/bin/env bats
# twkit doctor --since: two captures of one host are two samples. In a private namespace,
# without timestamps, a client whose connections the server closes first: the server's
# TIME-WAITs from 127.0.0.1 are reopened by the client's own SYNs (its ISN clock runs ahead,
# spec §5.1), so between the captures no cost shows and lb-quadruplet-budget stays info.

setup() {
	[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null || skip "needs root and unshare -n"
	command -v jq >/dev/null || skip "needs jq"
}

@test "doctor --since: two captures, server-closed churn without timestamps: no ceiling, no cost seen, no failure" {
	d=$BATS_TEST_TMPDIR
	run unshare -n sh -c 'set -e; ip link set lo up
		sysctl -qw net.ipv4.tcp_timestamps=0
		"$0" doctor --record "$1/a.twcap" >/dev/null || true
		"$0" bench -r 2000/s -n 20000 --close server -q --json >"$1/bench.json"
		"$0" doctor --record "$1/b.twcap" >/dev/null || true' "$TWKIT" "$d"
	[ "$status" -eq 0 ]
	[ "$(jq '[.. | .failed_total? | numbers] | add' "$d/bench.json")" = 0 ]
	run "$TWKIT" doctor --replay "$d/b.twcap" --since "$d/a.twcap" --json
	[ "$status" -eq 0 ]
	f=$(echo "$output" | jq -c '.findings[] | select(.id == "lb-quadruplet-budget")')
	echo "$f" >&2 # shown when the test fails
	[ "$(echo "$f" | jq -r .severity)" = info ]
	echo "$f" | jq -e '.summary | test("no ceiling")' >/dev/null
	echo "$f" | jq -e '[.evidence[] | select(test("no cost seen since the previous sample"))] | length == 1' >/dev/null
	# the wrong order is refused, as are --since with --watch
	run "$TWKIT" doctor --replay "$d/a.twcap" --since "$d/b.twcap"
	[ "$status" -eq 3 ]
	[[ "$output" == *"precede"* ]]
	run "$TWKIT" doctor --since "$d/a.twcap" --watch 1
	[ "$status" -eq 2 ]
	run "$TWKIT" doctor --replay "$d/b.twcap" --since "$d/missing.twcap"
	[ "$status" -eq 3 ]
	[[ "$output" == *"missing.twcap"* ]]
}
