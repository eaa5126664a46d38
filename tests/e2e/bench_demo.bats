#!/usr/bin/env bats
# `twkit bench` with no arguments shows the problem, then the fixes (issue 21 §2), and bench
# says what its run met and did (issue 21 §3): TIME-WAIT already toward the target at the
# start, TCPTimeWaitOverflow during the run, an asked rate not reached. Everything runs in
# private network namespaces; the demo makes its own (it is checked that it leaves the
# caller's namespace untouched).

load lib/bench

setup() { bench_need_root; }
teardown() { bench_ns_cleanup; }

@test "bench demo: as root, a private namespace with reuse off: EADDRNOTAVAIL, then the fixes" {
	# run from inside a throwaway namespace so that we can check the demo did not change it
	run bench_in_ns -- bash -c '
		"$0" bench; echo "rc=$?"
		echo "reuse=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)"
		echo "range=$(cat /proc/sys/net/ipv4/ip_local_port_range)"
		echo "tw=$(ss -Htan state time-wait | wc -l)"' "$TWKIT"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "twkit bench: demo in a private network namespace (tcp_tw_reuse=0,"* ]]
	[[ "$output" == *"rc=0"* ]]
	# the failures: the baseline run's own report shows EADDRNOTAVAIL
	base=$(printf '%s\n' "$output" | sed -n '/^1\. /,/^2\. /p')
	[[ "$base" == *"failed       EADDRNOTAVAIL"* ]]
	[[ "$base" == *"(tcp_tw_reuse is 0)"* ]]
	# then the fixes: the matrix, where linger0 and server-close fail nothing
	fixes=$(printf '%s\n' "$output" | sed -n '/^2\. /,$p')
	printf '%s\n' "$fixes" | grep -Eq '^baseline .*EADDRNOTAVAIL [0-9]+'
	printf '%s\n' "$fixes" | grep -Eq '^linger0-client .* none$'
	printf '%s\n' "$fixes" | grep -Eq '^server-close .* none$'
	# the caller's namespace kept its defaults and holds none of the demo's TIME-WAIT
	[[ "$output" == *"reuse=2"* ]]
	[[ "$output" == *"tw=0"* ]]
	[[ "$output" != *"range=40000"* ]]
}

@test "bench demo: unprivileged it says why nothing fails (from the running sysctls) and how to see it" {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	cp "$TWKIT" "$BATS_TEST_TMPDIR/twkit"
	chmod 755 "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/twkit"
	# in a namespace of ours with tcp_tw_reuse=2 (loopback), as nobody (cannot unshare)
	run bench_in_ns net.ipv4.tcp_tw_reuse=2 -- timeout 60 setpriv --reuid 65534 --regid 65534 \
		--clear-groups "$BATS_TEST_TMPDIR/twkit" bench
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "twkit bench: on this host's own stack (no private network namespace: Operation not permitted)." ]]
	[[ "$output" == *"Expect no failures: net.ipv4.tcp_tw_reuse is 2 here and this traffic is loopback"* ]]
	[[ "$output" == *"as root, \`twkit bench\` runs this demo in a private network namespace"* ]]
	[[ "$output" == *"failed 0"* ]]
	# with reuse off the same words come from the model's other answer
	run bench_in_ns net.ipv4.tcp_tw_reuse=0 "net.ipv4.ip_local_port_range=40000 40099" -- \
		timeout 60 setpriv --reuid 65534 --regid 65534 --clear-groups "$BATS_TEST_TMPDIR/twkit" bench
	[ "$status" -eq 0 ]
	[[ "$output" == *"Here tcp_tw_reuse is 0: once the 100 local ports are all in TIME-WAIT, connect() fails with EADDRNOTAVAIL."* ]]
	[[ "$output" == *"EADDRNOTAVAIL"* ]]
}

@test "bench: --host and any option run on the caller's stack as before" {
	run bench_in_ns net.ipv4.tcp_tw_reuse=0 "net.ipv4.ip_local_port_range=40000 40099" -- \
		"$TWKIT" bench --host -d 1s -q
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "twkit bench: self raw -> 127.0.0.1:"* ]]
	[[ "$output" == *"failed       EADDRNOTAVAIL"* ]]
}

@test "bench: TIME-WAIT left toward the target is said at the start, in text and JSON" {
	run bench_in_ns net.ipv4.tcp_tw_reuse=0 -- bash -c '
		"$0" bench serve --listen 127.0.0.1:18080 -d 20s -q 2>/dev/null & p=$!
		for i in $(seq 50); do ss -Hltn "sport = :18080" | grep -q . && break; sleep 0.1; done
		"$0" bench run --target 127.0.0.1:18080 -n 200 --json > /tmp/first.$$ 2>/dev/null
		jq -c ".time_wait.at_start" /tmp/first.$$; rm -f /tmp/first.$$
		"$0" bench run --target 127.0.0.1:18080 -n 100 2>&1 >/dev/null | grep "already holds"
		"$0" bench run --target 127.0.0.1:18080 -n 100 -q | grep "at start"
		"$0" bench run --target 127.0.0.1:18080 -n 100 -q --json | jq -c ".time_wait.at_start"
		kill $p; wait $p' "$TWKIT"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"toward_target":0,"total":0}' ]
	[[ "${lines[1]}" == "twkit bench: this namespace already holds 200 TIME-WAIT toward 127.0.0.1:18080 "* ]]
	[ "${lines[2]}" = "  at start     TIME-WAIT 300 toward the target, 300 in this namespace" ]
	[ "${lines[3]}" = '{"toward_target":400,"total":400}' ]
}

@test "bench: TCPTimeWaitOverflow during the run is reported (tcp_max_tw_buckets=10)" {
	run bench_in_ns net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_max_tw_buckets=10 -- bash -c '
		"$0" bench -n 300 -q | grep "overflow"
		"$0" bench -n 300 -q --json | jq ".time_wait.overflow"' "$TWKIT"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^"  overflow     TCPTimeWaitOverflow +"[0-9]+" during the run" ]]
	# each bench run leaves 10 TIME-WAIT (the buckets) and ~290 overflows; the server's side too
	[ "${lines[1]}" -ge 250 ]
	# none when the table has room
	run bench_in_ns -- "$TWKIT" bench -n 300 -q --json
	[ "$(bj .time_wait.overflow)" = 0 ]
}

@test "bench: an asked rate not reached is said, and by how much (text and JSON)" {
	# nothing listens on port 1: every connect is refused at once, and one thread cannot
	# start 5M connections a second
	run bench_in_ns -- bash -c '"$0" bench run --target 127.0.0.1:1 -d 1s --rate 5M/s -q --json 2>/dev/null' "$TWKIT"
	[ "$status" -eq 1 ]
	[ "$(bj .totals.rate_asked.reached)" = false ]
	[ "$(bj '.totals.rate_asked.shortfall_pct > 10')" = true ]
	[ "$(bj '.totals.rate_asked.started < 4500000')" = true ]
	run bench_in_ns -- "$TWKIT" bench run --target 127.0.0.1:1 -d 1s --rate 5M/s -q
	[[ "$output" =~ "rate         asked 5.0M/s, started "[0-9.]+"k/s: "[0-9]+"% short of the asked rate" ]]
	# a modest rate is reached: no line, reached true
	run bench_in_ns -- "$TWKIT" bench -d 2s --rate 200/s -q --json
	[ "$status" -eq 0 ]
	[ "$(bj .totals.rate_asked.reached)" = true ]
	run bench_in_ns -- "$TWKIT" bench -d 2s --rate 200/s -q
	[[ "$output" != *"short of the asked rate"* ]]
}
