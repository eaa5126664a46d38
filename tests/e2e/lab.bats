#!/usr/bin/env bats
# twkit lab on the real kernel (issue 5 "Tests"): each scenario in its shortest form (1,000
# ports at 100 connections/s, 16 s) asserts on its defining numbers, plus cleanup on Ctrl-C
# and after a SIGKILL, the run lock, --keep, and the errors without root or tools. The L7
# balancer runs as nginx where installed (default) and as twkit's relay (--relay twkit).

load lib/lab

@test "lab cli: list, unknown and unsupported scenarios, usage errors" {
	run "$TWKIT" lab --list
	[ "$status" -eq 0 ]
	[[ "$output" == *"stress-client"* && "$output" == *"bucket-overflow"* ]]
	run "$TWKIT" lab no-such-thing
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown scenario"* ]]
	run "$TWKIT" lab nat-recycle
	[ "$status" -eq 2 ]
	[[ "$output" == *"4.12"* && "$output" == *"twkit sim nat-recycle"* ]]
	run "$TWKIT" lab random-offsets
	[ "$status" -eq 2 ]
	[[ "$output" == *"twkit sim random-offsets"* ]]
	run "$TWKIT" lab
	[ "$status" -eq 2 ]
	run "$TWKIT" lab stress-client --bogus
	[ "$status" -eq 2 ]
	run "$TWKIT" lab lb-quadruplets --relay haproxy
	[ "$status" -eq 2 ]
	[[ "$output" == *"nginx or twkit"* ]]
	run "$TWKIT" lab --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--compare"* && "$output" == *"--keep"* && "$output" == *"--relay"* ]]
}

@test "lab cli: options are typed from the table: a bad value names the option and what was expected" {
	run "$TWKIT" lab stress-client --wait 25h
	[ "$status" -eq 2 ]
	[[ "$output" == *"--wait '25h': expected a duration"*"at most 1d"*"or 0 (0: do not wait)"* ]]
	run "$TWKIT" lab stress-client --wait 7x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--wait '7x': expected a duration such as 500ms, 5m or 1d"* ]]
	run "$TWKIT" lab stress-client --relay=haproxy
	[ "$status" -eq 2 ]
	[[ "$output" == *"--relay 'haproxy': expected nginx or twkit"* ]]
	# 1h30m, 24h and 0 are waits the table accepts: the next check (the --svg path) answers
	for w in 1h30m 24h 0 0s; do
		run "$TWKIT" lab stress-client --wait "$w" --svg "$BATS_TEST_TMPDIR/no/such/dir/p.svg"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--svg '"* && "$output" != *"--wait"* ]]
	done
	# --help: the choice's words and the defaults come from the table
	run "$TWKIT" lab --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--relay nginx|twkit"* ]]
	[[ "$output" == *"--wait DURATION"*"[0]"* ]]
}

@test "lab env: without root, or without nft, a clear message and exit 3" {
	lab_need_root
	command -v setpriv >/dev/null || skip "needs setpriv"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TWKIT" lab stress-client
	[ "$status" -eq 3 ]
	[[ "$output" == *"root"* ]]
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	ln -s "$(command -v ip)" "$BATS_TEST_TMPDIR/bin/ip"
	run env PATH="$BATS_TEST_TMPDIR/bin" "$TWKIT" lab stress-client
	[ "$status" -eq 3 ]
	[[ "$output" == *"nft"* ]]
}

@test "lab stress-client: EADDRNOTAVAIL once the 1,000-port budget is spent, TIME-WAIT ~1,000" {
	lab_need_root
	# the run lock is busy for a moment (as if another run were ending): --wait waits for it
	# (another suite's run may hold it first: take it when free, boundedly)
	flock -w 600 /run/twkit-lab.lock -c "touch '$BATS_TEST_TMPDIR/held'; sleep 1" &
	holder=$!
	for _ in $(seq 6000); do [ -e "$BATS_TEST_TMPDIR/held" ] && break; sleep 0.1; done
	[ -e "$BATS_TEST_TMPDIR/held" ]
	lab_json stress-client --svg "$BATS_TEST_TMPDIR/p.svg" --wait 2m
	wait $holder
	[ "$(lj .schema)" = "twkit.lab/1" ]
	[ "$(lj '.traffic.failed.EADDRNOTAVAIL')" -gt 100 ]
	# 1,000 ports / 100 per s: the budget is spent at about 10 s
	awk -v t="$(lj .traffic.first_eaddrnotavail_s)" 'BEGIN { exit !(t > 9 && t < 11.5) }'
	tw=$(lj '.hosts[] | select(.name == "client") | .time_wait_max')
	[ "$tw" -ge 950 ] && [ "$tw" -le 1000 ]
	[ "$(lj '.traffic.completed')" -le 1000 ]
	grep -q "<svg" "$BATS_TEST_TMPDIR/p.svg"
}

@test "lab stress-client-linger0: no TIME-WAIT, no EADDRNOTAVAIL; --keep leaves the namespaces" {
	lab_need_root
	"$TWKIT" lab stress-client-linger0 --json --keep "${LAB_WAIT[@]}" >"$BATS_TEST_TMPDIR/j" 2>"$BATS_TEST_TMPDIR/e" &
	pid=$!
	wait $pid
	LAB_JSON="$BATS_TEST_TMPDIR/j"
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ "$(lj '.traffic.completed')" -gt 1400 ]
	[ "$(lj '[.hosts[].time_wait_max] | add')" -eq 0 ]
	[ "$(lj .kept)" = "true" ]
	[ "$(lab_ns_of $pid | wc -l)" -eq 2 ]
	grep -q "ip netns delete twk-lab-$pid-client" "$BATS_TEST_TMPDIR/e"
	lab_ns_remove $pid
	[ -z "$(lab_ns_of $pid)" ]
}

@test "lab stress-client-server-close: TIME-WAIT on the server, the client keeps going" {
	lab_need_root
	lab_json stress-client-server-close
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ "$(lj '.hosts[] | select(.name == "client") | .time_wait_max')" -eq 0 ]
	[ "$(lj '.hosts[] | select(.name == "server") | .time_wait_max')" -gt 100 ]
}

@test "lab tw-reuse-client: tcp_tw_reuse=1 with timestamps, no failures far above the budget" {
	lab_need_root
	lab_json tw-reuse-client
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ "$(lj '.traffic.completed')" -gt 1400 ]
	[ "$(lj '.hosts[] | select(.name == "client") | .counters["TcpExt.TWRecycled"]')" -gt 0 ]
}

@test "lab slb-strips-ts: tw_reuse ineffective behind a balancer with tcp_timestamps=0 (default relay)" {
	lab_need_root
	lab_json slb-strips-ts
	[ "$(lj .l7_balancer.relay)" = "$(lab_default_relay)" ]
	[ "$(lj '.hosts[] | select(.name == "client") | .sysctls["net.ipv4.tcp_tw_reuse"]')" = 1 ]
	[ "$(lj '.hosts[] | select(.name == "lb") | .sysctls["net.ipv4.tcp_timestamps"]')" = 0 ]
	[ "$(lj '.traffic.failed.EADDRNOTAVAIL')" -gt 100 ]
	[ "$(lj '.hosts[] | select(.name == "client") | .counters["TcpExt.TWRecycled"]')" -eq 0 ]
}

@test "lab lb-quadruplets --relay twkit: the balancer's 1,000 ports run out toward one server port" {
	lab_need_root
	lab_json lb-quadruplets --relay twkit
	[ "$(lj .l7_balancer.relay)" = twkit ]
	[ "$(lj '.l7_balancer.EADDRNOTAVAIL')" -gt 100 ]
	[ "$(lj .traffic.first_eaddrnotavail_on)" = "lb" ]
	[ "$(lj '.traffic.failed.ECONNRESET')" -gt 100 ]
	tw=$(lj '.hosts[] | select(.name == "lb") | .time_wait_max')
	[ "$tw" -ge 950 ] && [ "$tw" -le 1000 ]
}

@test "lab lb-quadruplets --relay nginx: the same with nginx; the client gets 502s, not resets" {
	lab_need_root
	lab_need_nginx
	"$TWKIT" lab lb-quadruplets --relay nginx --json "${LAB_WAIT[@]}" >"$BATS_TEST_TMPDIR/j" 2>"$BATS_TEST_TMPDIR/e" &
	pid=$!
	wait $pid
	LAB_JSON="$BATS_TEST_TMPDIR/j"
	[ -z "$(lab_nginx_dir_of $pid)" ]
	[ "$(lj .l7_balancer.relay)" = nginx ]
	[ "$(lj '.l7_balancer.EADDRNOTAVAIL')" -gt 100 ]
	[ "$(lj '.l7_balancer.backend_ok')" -ge 950 ]
	[ "$(lj .traffic.first_eaddrnotavail_on)" = "lb" ]
	awk -v t="$(lj .traffic.first_eaddrnotavail_s)" 'BEGIN { exit !(t > 9 && t < 11.5) }'
	# nginx answers 502 for each failed upstream connect: counted as failures, not completed;
	# a 502 still on its way when the client stops is in nginx's log only (in flight)
	non2xx=$(lj '.traffic.failed.HTTP_non2xx')
	ean=$(lj '.l7_balancer.EADDRNOTAVAIL')
	inflight=$(lj '.traffic.attempted - .traffic.completed - .traffic.failed_total')
	[ "$non2xx" -le "$ean" ] && [ "$ean" -le $((non2xx + inflight)) ]
	[ "$(lj '.traffic.completed')" -le 1000 ]
	tw=$(lj '.hosts[] | select(.name == "lb") | .time_wait_max')
	[ "$tw" -ge 950 ] && [ "$tw" -le 1000 ]
}

@test "lab bucket-overflow: TIME-WAIT flat at tcp_max_tw_buckets, TCPTimeWaitOverflow rises" {
	lab_need_root
	lab_json bucket-overflow
	tw=$(lj '.hosts[] | select(.name == "client") | .time_wait_max')
	[ "$tw" -ge 450 ] && [ "$tw" -le 500 ]
	[ "$(lj '.hosts[] | select(.name == "client") | .counters["TcpExt.TCPTimeWaitOverflow"]')" -gt 500 ]
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
}

@test "lab cleanup: Ctrl-C halfway removes everything; a second run meanwhile is refused" {
	lab_need_root
	"$TWKIT" lab lb-quadruplets --json "${LAB_WAIT[@]}" >/dev/null 2>&1 &
	pid=$!
	lab_wait_ns $pid
	sleep 2
	run "$TWKIT" lab stress-client
	[ "$status" -eq 3 ]
	[[ "$output" == *"another twkit lab run is active"* && "$output" == *"--wait"* ]]
	run "$TWKIT" lab stress-client --wait 300ms # a bounded wait, then the same refusal
	[ "$status" -eq 3 ]
	[[ "$output" == *"another twkit lab run is active"* ]]
	kids=$(pgrep -P $pid || true)
	[ -n "$kids" ]
	kill -INT $pid
	wait $pid || true
	[ -z "$(lab_ns_of $pid)" ]
	[ -z "$(lab_nginx_dir_of $pid)" ]
	for k in $kids; do ! kill -0 "$k" 2>/dev/null; done
	# veths are only ever created inside the run's namespaces, never here
	! ip -o link show | awk -F': ' '{print $2}' | grep -qE '^(c0|m0|m1|s0)(@|$)'
}

@test "lab cleanup: after a SIGKILL the children (nginx too) die and the next run removes the leftovers" {
	lab_need_root
	"$TWKIT" lab lb-quadruplets --json "${LAB_WAIT[@]}" >/dev/null 2>&1 &
	pid=$!
	lab_wait_ns $pid
	sleep 2
	kids=$(pgrep -P $pid || true)
	kill -KILL $pid
	wait $pid || true
	sleep 0.5
	for k in $kids; do ! kill -0 "$k" 2>/dev/null; done
	[ -n "$(lab_ns_of $pid)" ]
	[ "$(lab_default_relay)" = twkit ] || [ -n "$(lab_nginx_dir_of $pid)" ]
	run "$TWKIT" lab stress-client-linger0 --json "${LAB_WAIT[@]}"
	[ "$status" -eq 0 ]
	[[ "$output" == *"removed 3 namespace(s) left by a run that died"* ]]
	[ -z "$(lab_ns_of $pid)" ]
	[ -z "$(lab_nginx_dir_of $pid)" ]
}

teardown() {
	[ -n "${pid:-}" ] && lab_ns_remove "$pid" || true
	[ -n "${pid:-}" ] && lab_nginx_dir_remove "$pid" || true
}

@test "lab FILE.ini: a sim scenario file runs on the real kernel, beside sim; bad files exit 2" {
	f=$BATS_TEST_TMPDIR/short.ini
	printf '[sim]\nname = short-budget\nduration = 5s\nkernel = 5.4\n\n[client c]\nrate = 60/s\ncloses = client\nport_range = 40000-40099\nvia = srv\n\n[server srv]\n' >"$f"
	printf '[sim]\nduration = 5s\n[client a]\nrate = fast\nvia = s\n[server s]\n' >"$BATS_TEST_TMPDIR/bad.ini"
	printf '[sim]\nduration = 5s\n[client a]\nrate = 1/s\nvia = s\n[client b]\nrate = 1/s\nvia = s\n[server s]\n' >"$BATS_TEST_TMPDIR/two.ini"
	run "$TWKIT" lab "$BATS_TEST_TMPDIR/bad.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.ini:4:"* && "$output" == *"'rate'"* ]]
	run "$TWKIT" lab "$BATS_TEST_TMPDIR/two.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"one client group"* ]]
	run "$TWKIT" lab "$f" --set c.rate=oops
	[ "$status" -eq 2 ]
	run "$TWKIT" lab stress-client --set c.rate=1/s
	[ "$status" -eq 2 ]
	[[ "$output" == *"scenario files"* ]]
	lab_need_root
	# 100 ports at 60/s toward one destination: the budget is spent at about 1.7 s
	lab_json "$f" --compare --set c.rate=60/s
	[ "$(lj .scenario)" = short-budget ]
	[ "$(lj .traffic.failed.EADDRNOTAVAIL)" -gt 100 ]
	awk -v t="$(lj .traffic.first_eaddrnotavail_s)" 'BEGIN { exit !(t > 1.2 && t < 2.5) }'
	[ "$(lj '.hosts[] | select(.name == "c") | .time_wait_max')" -eq 100 ]
	[ "$(lj .compare.sim.connect_errors.EADDRNOTAVAIL)" -gt 100 ]
	grep -q "runs on this machine's kernel" "$BATS_TEST_TMPDIR/lab.err"
}
