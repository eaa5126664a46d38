#!/usr/bin/env bats
# twkit bench against real sockets in private network namespaces (issue 4 "Tests"):
# a ~500-port range, tcp_tw_reuse=0, and the client opening 300 connections/s, well above the
# 500/60 s the client's TIME-WAIT allows. Each test asserts on the JSON counts.

load lib/bench

RANGE="net.ipv4.ip_local_port_range=40000 40499"

setup() { bench_need_root; }
teardown() { bench_ns_cleanup; }

churn() { # extra bench options...
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 -- \
		"$TWKIT" bench --rate 300 --duration 4s --json -q "$@"
}

# jq program: sum over the series of column $1 x the row's span (rows hold rates per second)
series_sum() {
	printf '[.series as $s | range(0; $s | length) | $s[.].%s * ($s[.].t - (if . > 0 then $s[. - 1].t else 0 end))] | add // 0 | . + 0.5 | floor' "$1"
}

invariant() {
	[ "$(bj '.totals.attempted == .totals.completed + .totals.failed_total + .totals.in_flight')" = true ]
	[ "$(bj '[.totals.failed[]] | add // 0')" = "$(bj .totals.failed_total)" ]
}

@test "bench ns: client closes first, EADDRNOTAVAIL once ~500 ports are spent" {
	churn
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -gt 0 ]
	[ "$(bj .totals.completed)" -le 520 ]
	[ "$(bj .totals.completed)" -ge 400 ]
	[ "$(bj .time_wait.client_max)" -ge 400 ]
	[ "$(bj .budget.usable_ports)" -eq 500 ]
	# the per-second errno columns (rates over each row's span) add up to the totals
	[ "$(bj "$(series_sum EADDRNOTAVAIL)")" -eq "$(bj .totals.failed.EADDRNOTAVAIL)" ]
	[ "$(bj "$(series_sum failed)")" -eq "$(bj .totals.failed_total)" ]
	[ "$(bj "$(series_sum rate)")" -eq "$(bj .totals.completed)" ]
	# and the named columns plus "other" add up to "failed", row by row
	[ "$(bj '[.series[] | (.failed - .EADDRNOTAVAIL - .ETIMEDOUT - .ECONNREFUSED - .ECONNRESET - .EMFILE - .other) | fabs] | max < 0.01')" = true ]
}

@test "bench ns: --linger0 client leaves no client TIME-WAIT and no EADDRNOTAVAIL" {
	churn --linger0 client
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -eq 0 ]
	[ "$(bj .time_wait.client_max)" -eq 0 ]
	[ "$(bj .totals.completed)" -gt 900 ]
}

@test "bench ns: --close server moves TIME-WAIT to the server, the client keeps going" {
	churn --close server
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -eq 0 ]
	[ "$(bj .time_wait.client_max)" -eq 0 ]
	[ "$(bj .time_wait.server_max)" -gt 100 ]
	[ "$(bj .totals.completed)" -gt 900 ]
}

@test "bench ns: 4 source addresses make the budget four times larger" {
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 -- \
		"$TWKIT" bench --concurrency 8 --duration 3s --json -q --source 127.0.0.1-127.0.0.4
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -gt 0 ]
	[ "$(bj .totals.completed)" -ge 1800 ]
	[ "$(bj .totals.completed)" -le 2020 ]
	[ "$(bj .time_wait.client_max)" -ge 1800 ]
}

@test "bench ns: tcp_tw_reuse=1 with timestamps over a veth pair keeps going" {
	bench_veth_setup
	ip netns exec "$BENCH_NS_A" sysctl -q -w "$RANGE" net.ipv4.tcp_tw_reuse=1 \
		net.ipv4.tcp_timestamps=1
	log=$BATS_TEST_TMPDIR/serve.log
	ip netns exec "$BENCH_NS_B" "$TWKIT" bench serve --listen "$BENCH_IP_B:8080" \
		--duration 20s --json >"$BATS_TEST_TMPDIR/serve.json" 2>"$log" &
	BENCH_PID=$!
	bench_wait_listen "$log"
	run ip netns exec "$BENCH_NS_A" "$TWKIT" bench run --target "$BENCH_IP_B:8080" \
		--rate 300 --duration 4s --json -q
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -eq 0 ]
	[ "$(bj .totals.completed)" -gt 900 ]
	[ "$(bj .time_wait.client_max)" -gt 0 ]
	[ "$(bj .time_wait.server_local)" = false ]
	# and the same path with tcp_tw_reuse=0 runs out of ports
	ip netns exec "$BENCH_NS_A" sysctl -q -w net.ipv4.tcp_tw_reuse=0
	sleep 1.2 # let the last reusable TIME-WAITs age is not enough: they live 60 s
	run ip netns exec "$BENCH_NS_A" "$TWKIT" bench run --target "$BENCH_IP_B:8080" \
		--rate 300 --duration 2s --json -q
	[ "$status" -eq 0 ]
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -gt 0 ]
	# the server reports on SIGTERM
	kill -TERM "$BENCH_PID"
	wait "$BENCH_PID"
	BENCH_PID=
	output=$(cat "$BATS_TEST_TMPDIR/serve.json")
	[ "$(bj .schema)" = twkit.bench/1 ]
	[ "$(bj .server.accepted)" -gt 900 ]
}

# segments per connection (both ends are in the fresh namespace, whose counters start at 0)
segs_per_conn() { # bench options...
	bench_in_ns -- bash -c '"$@" >"$BATS_TEST_TMPDIR/segs.json" &&
		nstat -a -s -z TcpOutSegs | awk "/TcpOutSegs/ {print \$2}"' bash \
		"$TWKIT" bench --proto http --close server --concurrency 4 --count 400 --json -q "$@"
}

@test "bench ns: --delayed-ack lets our ACKs ride on the request and the FIN (8 segments, not 10)" {
	segs=$(segs_per_conn)
	output=$(cat "$BATS_TEST_TMPDIR/segs.json")
	[ "$(bj .config.delayed_ack)" = true ]
	[ "$(bj .totals.completed)" -eq 400 ]
	# SYN, SYN-ACK, request+ACK, ACK, response, FIN, FIN+ACK, ACK: 8 (a few timers may add
	# one; on a busy machine the server's FIN sometimes leaves with its response, one fewer)
	[ "$segs" -le $((400 * 85 / 10)) ]
	[ "$segs" -ge $((400 * 75 / 10)) ]
	on=$segs
	segs=$(segs_per_conn --delayed-ack off)
	output=$(cat "$BATS_TEST_TMPDIR/segs.json")
	[ "$(bj .config.delayed_ack)" = false ]
	[ "$(bj .totals.completed)" -eq 400 ]
	# 10 (the same coalescing may take one off a few): the two ACKs the option saves
	[ "$segs" -ge $((400 * 95 / 10)) ]
	[ "$segs" -ge $((on + 400 * 3 / 2)) ]
	# keep-alive: auto leaves quick ACKs alone (a server's Nagle could wait on ours)
	run bench_in_ns -- "$TWKIT" bench --proto http --requests-per-conn 3 --count 10 --json -q
	[ "$(bj .config.delayed_ack)" = false ]
}
