#!/usr/bin/env bats
# twkit trace against real sockets in private named network namespaces (issue 19 "Tests"):
# trace runs on the host with --netns, the traffic inside; each test compares trace's counts
# with what the traffic's own tool reports. trace is stopped with SIGINT once the traffic is
# done, so nothing depends on timing.

load lib/bench
load lib/trace

setup() { trace_need; }
teardown() { trace_cleanup; }

PROBE() { "$TWKIT_BUILD/tests/helpers/tcp_probe" "$@"; }

@test "trace: EADDRNOTAVAIL from a 50-port range equals bench's own count, per destination and comm" {
	trace_ns a "net.ipv4.ip_local_port_range=40000 40049" net.ipv4.tcp_tw_reuse=0
	ns=$TRACE_NS
	trace_start "$ns"
	run ip netns exec "$ns" "$TWKIT" bench --concurrency 8 --count 400 --json -q
	[ "$status" -eq 0 ]
	bench=$output
	want=$(printf '%s\n' "$bench" | jq -r '.totals.failed.EADDRNOTAVAIL // 0')
	[ "$want" -gt 0 ]
	trace_stop
	[ "$(tj .schema)" = twkit.trace/1 ]
	got=$(tj '[.connect_failures[] | select(.errno == "EADDRNOTAVAIL" and .dst == "127.0.0.1"
		and .comm == "twkit") | .count] | add // 0')
	echo "bench $want, trace $got"
	[ "$got" -eq "$want" ]
	# one destination, no other errno, nothing dropped
	[ "$(tj '[.connect_failures[] | .dport] | unique | length')" -eq 1 ]
	[ "$(tj '[.connect_failures[] | select(.errno != "EADDRNOTAVAIL")] | length')" -eq 0 ]
	[ "$(tj .dropped_events)" -eq 0 ]
	# every connect() (completed, failed) has its time recorded for that destination
	calls=$(printf '%s\n' "$bench" | jq -r '.totals.completed + .totals.failed_total')
	[ "$(tj '[.connect_latency[] | select(.dst == "127.0.0.1") | .count] | add')" -eq "$calls" ]
}

# close_run client|server [bench run options...]: bench serve and bench run as two processes
# in a namespace with the sysctls in CLOSE_SYSCTLS (if any); sets SERVE_PID, RUN_PID,
# COMPLETED, TW (the namespace's TIME-WAIT sockets right after) and the trace JSON in $output.
close_run() {
	local who=$1 log=$BATS_TEST_TMPDIR/serve.log
	shift
	# shellcheck disable=SC2086 # a list of NAME=VALUE words
	trace_ns a ${CLOSE_SYSCTLS:-}
	ns=$TRACE_NS
	trace_start "$ns"
	ip netns exec "$ns" "$TWKIT" bench serve --listen 127.0.0.1:8080 --duration 30s \
		>/dev/null 2>"$log" &
	BENCH_PID=$!
	SERVE_PID=$BENCH_PID
	bench_wait_listen "$log"
	ip netns exec "$ns" "$TWKIT" bench run --target 127.0.0.1:8080 --close "$who" \
		--concurrency 4 --count 300 --json -q "$@" >"$BATS_TEST_TMPDIR/run.json" &
	RUN_PID=$!
	wait "$RUN_PID"
	COMPLETED=$(jq -r .totals.completed "$BATS_TEST_TMPDIR/run.json")
	kill -TERM "$BENCH_PID"
	wait "$BENCH_PID" || true
	BENCH_PID=
	trace_stop
	# TIME-WAIT lasts 60 s: these are all the runs left (ss's state filter is the tw substate)
	TW=$(ip netns exec "$ns" ss -Htan state time-wait | wc -l)
}

# tw_of PID: the time_waits of PID's closer rows
tw_of() { tj "[.closers[] | select(.pid == $1) | .time_waits] | add // 0"; }

@test "trace: client closes first: the active closes are the client's, one per completed connection" {
	close_run client
	[ "$COMPLETED" -eq 300 ]
	[ "$(tj "[.closers[] | select(.pid == $RUN_PID and .peer == \"127.0.0.1\"
		and .peer_port == 8080) | .active_closes] | add // 0")" -eq "$COMPLETED" ]
	[ "$(tj "[.closers[] | select(.pid == $SERVE_PID) | .active_closes] | add // 0")" -eq 0 ]
	# each active close led to a TIME-WAIT, which the kernel still holds
	echo "time_waits $(tw_of "$RUN_PID"), ss time-wait $TW"
	[ "$(tw_of "$RUN_PID")" -eq "$COMPLETED" ]
	[ "$TW" -eq "$COMPLETED" ]
	[ "$(tw_of "$SERVE_PID")" -eq 0 ]
	[ "$(tj .dropped_events)" -eq 0 ]
}

@test "trace: server closes first: the active closes are the server's (peer_port 0: accepted)" {
	close_run server
	[ "$COMPLETED" -eq 300 ]
	[ "$(tj "[.closers[] | select(.pid == $SERVE_PID and .peer == \"127.0.0.1\"
		and .peer_port == 0) | .active_closes] | add // 0")" -eq "$COMPLETED" ]
	[ "$(tj "[.closers[] | select(.pid == $RUN_PID) | .active_closes] | add // 0")" -eq 0 ]
	echo "time_waits $(tw_of "$SERVE_PID"), ss time-wait $TW"
	[ "$(tw_of "$SERVE_PID")" -eq "$COMPLETED" ]
	[ "$TW" -eq "$COMPLETED" ]
}

@test "trace: closes the peer answers with a RST lead to no TIME-WAIT, those it answers with a FIN do" {
	trace_ns a
	ns=$TRACE_NS
	trace_start "$ns"
	# 99 connections, each closed first by the client (shutdown: ESTABLISHED -> FIN_WAIT1);
	# the server answers a third with its FIN (TIME-WAIT), a third with a RST (SO_LINGER 0)
	# at once (the client still in FIN_WAIT1: the ACK of its FIN is delayed) and a third with
	# a RST once the client is in FIN_WAIT2 (polled through TCP_INFO, bounded)
	ip netns exec "$ns" python3 - <<-'PY'
	import socket, struct, time
	ls = socket.socket(); ls.bind(("127.0.0.1", 8081)); ls.listen(16)
	for i in range(99):
	    c = socket.create_connection(("127.0.0.1", 8081))
	    s, _ = ls.accept()
	    c.shutdown(socket.SHUT_WR)
	    assert s.recv(1) == b""
	    if i % 3 == 2:
	        for _ in range(2000):
	            if c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == 5:
	                break
	            time.sleep(0.001)
	        else:
	            raise SystemExit("no FIN_WAIT2")
	    if i % 3:
	        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
	    s.close()
	    try:
	        c.recv(1)
	    except ConnectionResetError:
	        pass
	    c.close()
	PY
	trace_stop
	tw=$(ip netns exec "$ns" ss -Htan state time-wait | wc -l)
	closes=$(tj '[.closers[] | select(.comm == "python3" and .peer_port == 8081) | .active_closes] | add // 0')
	got=$(tj '[.closers[] | select(.comm == "python3" and .peer_port == 8081) | .time_waits] | add // 0')
	echo "active_closes $closes, time_waits $got, ss time-wait $tw"
	[ "$closes" -eq 99 ]
	[ "$tw" -eq 33 ]
	[ "$got" -eq 33 ]
	[ "$(tj '[.closers[] | .time_waits] | add // 0')" -eq 33 ]
}

@test "trace: a linger0 close (RST, no FIN) is no active close and no TIME-WAIT" {
	close_run client --linger0 client
	[ "$COMPLETED" -eq 300 ]
	[ "$(tj '[.closers[] | .active_closes] | add // 0')" -eq 0 ]
	[ "$(tj '[.closers[] | .time_waits] | add // 0')" -eq 0 ]
	[ "$TW" -eq 0 ]
}

@test "trace: tcp_max_tw_buckets 10: time_waits counts the refused TIME-WAITs too (TCPTimeWaitOverflow)" {
	# the tracepoint cannot tell a TIME-WAIT refused by the bucket limit from a kept one (the
	# kernel takes the same path and only bumps TcpExt.TCPTimeWaitOverflow): time_waits is
	# what the closes led to, the kernel kept the limit and counted the rest as overflow
	CLOSE_SYSCTLS=net.ipv4.tcp_max_tw_buckets=10 close_run client
	[ "$COMPLETED" -eq 300 ]
	over=$(ip netns exec "$ns" nstat -saz TcpExtTCPTimeWaitOverflow | awk '$1 == "TcpExtTCPTimeWaitOverflow" { print $2 }')
	echo "time_waits $(tw_of "$RUN_PID"), kept $TW, overflow $over"
	[ "$TW" -eq 10 ]
	[ "$(tw_of "$RUN_PID")" -eq "$COMPLETED" ]
	[ $((TW + over)) -eq "$(tw_of "$RUN_PID")" ]
}

@test "trace: no listener gives ECONNREFUSED, blocking and non-blocking, counted once each" {
	trace_ns a
	ns=$TRACE_NS
	trace_start "$ns"
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" 127.0.0.1 9)" = ECONNREFUSED ]
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" -n 127.0.0.1 9)" = ECONNREFUSED ]
	# and a failure before any SYN: no route in a namespace that has only lo
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" 10.1.2.3 80)" = ENETUNREACH ]
	trace_stop
	[ "$(tj '[.connect_failures[] | select(.errno == "ECONNREFUSED" and .dst == "127.0.0.1"
		and .dport == 9 and .comm == "tcp_probe") | .count] | add // 0')" -eq 2 ]
	[ "$(tj '[.connect_failures[] | select(.errno == "ENETUNREACH" and .dst == "10.1.2.3"
		and .dport == 80) | .count] | add // 0')" -eq 1 ]
	[ "$(tj '.connect_failures | length')" -eq 3 ] # three processes, one row each
}

@test "trace: SYNs dropped by nft, short user timeout: SYN retransmissions and ETIMEDOUT" {
	trace_ns a
	ns=$TRACE_NS
	ip netns exec "$ns" nft -f - <<-'NFT'
	table inet twk_trace {
		chain input {
			type filter hook input priority 0;
			tcp dport 9999 tcp flags syn drop
		}
	}
	NFT
	trace_start "$ns"
	# TCP_USER_TIMEOUT 1.5 s: the SYN, one retransmission at 1 s, ETIMEDOUT at 1.5 s
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" -u 1500 127.0.0.1 9999)" = ETIMEDOUT ]
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" -n -u 1500 127.0.0.1 9999)" = ETIMEDOUT ]
	trace_stop
	[ "$(tj '[.connect_failures[] | select(.errno == "ETIMEDOUT" and .dst == "127.0.0.1"
		and .dport == 9999) | .count] | add // 0')" -eq 2 ]
	[ "$(tj '[.syn_retransmits[] | select(.dst == "127.0.0.1" and .dport == 9999) | .count]
		| add // 0')" -ge 2 ]
}

@test "trace: --netns keeps another namespace's events out" {
	trace_ns b
	other=$TRACE_NS
	trace_ns a
	ns=$TRACE_NS
	trace_start "$ns"
	[ "$(ip netns exec "$other" "$TWKIT_BUILD/tests/helpers/tcp_probe" 127.0.0.1 7)" = ECONNREFUSED ]
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" 127.0.0.1 9)" = ECONNREFUSED ]
	run ip netns exec "$other" "$TWKIT" bench --count 50 --json -q
	[ "$status" -eq 0 ]
	trace_stop
	[ "$(tj '[.connect_failures[] | .dport] | unique | join(",")')" = 9 ]
	[ "$(tj '.closers | length')" -eq 0 ]
	[ "$(tj '[.connect_latency[] | .dport] | unique | join(",")')" = 9 ]
	inum=$(stat -L -c %i "/run/netns/$ns")
	[ "$(tj "[.connect_failures[] | select(.netns == $inum)] | length")" -eq 1 ]
}

@test "trace: full tables: every connect is counted or dropped, and the drops are reported" {
	trace_ns a
	ns=$TRACE_NS
	trace_start "$ns"
	# 9000 refused connects to 9000 distinct ports: more rows than the failure table (8192)
	# and the latency table (1024) hold
	[ "$(ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" -c 9000 127.0.0.1 20000)" = \
		"ECONNREFUSED 9000" ]
	trace_stop
	dropped=$(tj .dropped_events)
	failed=$(tj '[.connect_failures[] | .count] | add')
	timed=$(tj '[.connect_latency[] | .count] | add')
	echo "failures $failed, timed $timed, dropped $dropped"
	[ "$dropped" -gt 0 ]
	[ "$failed" -lt 9000 ]
	[ "$timed" -le 1024 ]
	# one connect is one failure row update and one latency update: each lands or is dropped
	[ $((failed + timed + dropped)) -eq 18000 ]
}

@test "trace: --prom passes promtool check metrics, labels bounded by --top" {
	command -v promtool >/dev/null || skip "no promtool (apt-get install prometheus)"
	trace_ns a "net.ipv4.ip_local_port_range=40000 40049" net.ipv4.tcp_tw_reuse=0
	ns=$TRACE_NS
	"$TWKIT" trace --prom --top 2 --netns "$ns" >"$BATS_TEST_TMPDIR/prom.txt" \
		2>"$BATS_TEST_TMPDIR/prom.err" &
	TRACE_PID=$!
	for i in $(seq 200); do grep -q attached "$BATS_TEST_TMPDIR/prom.err" && break; sleep 0.1; done
	for p in 7 8 9; do ip netns exec "$ns" "$TWKIT_BUILD/tests/helpers/tcp_probe" 127.0.0.1 $p; done
	run ip netns exec "$ns" "$TWKIT" bench --concurrency 8 --count 100 --json -q
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID"
	TRACE_PID=
	promtool check metrics <"$BATS_TEST_TMPDIR/prom.txt"
	# ECONNREFUSED to 7, 8, 9 and EADDRNOTAVAIL: --top 2 keeps two series and one "other"
	[ "$(grep -c '^twkit_trace_connect_failures_total{' "$BATS_TEST_TMPDIR/prom.txt")" -eq 3 ]
	grep -q '^twkit_trace_connect_failures_total{errno="other"' "$BATS_TEST_TMPDIR/prom.txt"
	grep -q '^twkit_trace_dropped_events_total 0$' "$BATS_TEST_TMPDIR/prom.txt"
}

@test "trace: doctor --trace puts the measured EADDRNOTAVAIL beside port-exhaustion" {
	trace_ns a "net.ipv4.ip_local_port_range=40000 40049" net.ipv4.tcp_tw_reuse=0
	ns=$TRACE_NS
	ip netns exec "$ns" "$TWKIT" bench --concurrency 4 --duration 8s -q --json \
		>"$BATS_TEST_TMPDIR/bench.json" &
	BENCH_PID=$!
	# until the 50 ports are spent (bounded: 5 s), then measure while bench keeps failing
	for i in $(seq 50); do
		[ "$(ip netns exec "$ns" ss -Htan state time-wait | wc -l)" -ge 50 ] && break
		sleep 0.1
	done
	status=0
	output=$("$TWKIT" doctor --netns "$ns" --trace 1s --json 2>"$BATS_TEST_TMPDIR/doc.err") ||
		status=$?
	[ "$status" -ne 3 ] || skip "$(cat "$BATS_TEST_TMPDIR/doc.err")"
	[ "$status" -eq 0 ]
	ev=$(printf '%s\n' "$output" | jq -r '.findings[] | select(.id == "port-exhaustion")
		| .evidence[]' | grep '^measured (trace')
	echo "$ev"
	[[ "$ev" == *"EADDRNOTAVAIL toward 127.0.0.1:"*" from twkit, pid $BENCH_PID"* ]]
	run "$TWKIT" doctor --trace 1s --replay /dev/null
	[ "$status" -eq 2 ]
}

@test "trace: exit 2 on bad options, 3 naming a missing namespace" {
	run "$TWKIT" trace --top 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"--top"* ]]
	run "$TWKIT" trace --json --prom
	[ "$status" -eq 2 ]
	run "$TWKIT" trace --netns "twk-trace-$$-none" -d 1s
	[ "$status" -eq 3 ]
	[[ "$output" == *"/run/netns/twk-trace-$$-none"* ]]
}

@test "trace: options are typed from the table: bad values name the option and what was expected" {
	run "$TWKIT" trace --top 1001
	[ "$status" -eq 2 ]
	[[ "$output" == *"--top '1001': expected a count such as 1000 or 10k, from 1 to 1,000"* ]]
	run "$TWKIT" trace -d 7x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--duration '7x': expected a duration such as 90s, 1h30m or 7d, above 0"* ]]
	run "$TWKIT" trace -d 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"--duration '0'"* ]]
	run "$TWKIT" trace --interval 50ms
	[ "$status" -eq 2 ]
	[[ "$output" == *"--interval '50ms': expected a duration"*"at least 100ms"* ]]
	# 1h30m and 7d are durations: parsing passes, the missing namespace answers (exit 3)
	for d in 1h30m 7d; do
		run "$TWKIT" trace -d "$d" --interval 100ms --top 1k --netns "twk-trace-$$-none"
		[ "$status" -eq 3 ]
		[[ "$output" == *"/run/netns/twk-trace-$$-none"* ]]
	done
	run "$TWKIT" trace --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--interval DURATION"*"[1s]"* && "$output" == *"--top N"*"[10]"* ]]
}

@test "trace: not root exits 3 and says what is missing" {
	command -v setpriv >/dev/null || skip "no setpriv"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TWKIT" trace -d 1s
	[ "$status" -eq 3 ]
	[[ "$output" == *"needs root"* ]]
}
