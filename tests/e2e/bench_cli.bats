#!/usr/bin/env bats
# twkit bench from the command line: usage errors, Ctrl-C report, outputs, HTTP, matrix, and
# the server's robustness (garbage, slowloris, vanishing clients). Runs in private network
# namespaces (unshare -n), so nothing touches the host's loopback or TIME-WAIT table.

load lib/bench

setup() { bench_need_root; }
teardown() { bench_ns_cleanup; }

@test "bench cli: bad input names the option and exits 2" {
	run "$TWKIT" bench --close both
	[ "$status" -eq 2 ]
	[[ "$output" == *"--close 'both'"* ]]
	run "$TWKIT" bench run
	[ "$status" -eq 2 ]
	[[ "$output" == *"--target"* ]]
	run "$TWKIT" bench --rate fast
	[ "$status" -eq 2 ]
	[[ "$output" == *"--rate"* ]]
	run "$TWKIT" bench --bogus
	[ "$status" -eq 2 ]
	run "$TWKIT" bench --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--linger0"* ]]
}

@test "bench cli: the typed option table validates, converts and documents every option" {
	# a bad duration, count, size, rate or choice names the option, the value and what the
	# table expects, before anything starts (exit 2)
	run "$TWKIT" bench --duration 7x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--duration '7x': expected a duration such as 90s, 1h30m or 7d, above 0"* ]]
	run "$TWKIT" bench -T 65
	[ "$status" -eq 2 ]
	[[ "$output" == *"--threads '65': expected a count such as 1000 or 10k, from 1 to 64"* ]]
	run "$TWKIT" bench --max-request 8
	[ "$status" -eq 2 ]
	[[ "$output" == *"--max-request '8': expected a size"*"from 16 B to 64 MiB"* ]]
	run "$TWKIT" bench --rate 20M
	[ "$status" -eq 2 ]
	[[ "$output" == *"--rate '20M': expected a rate"*"at most"* ]]
	run "$TWKIT" bench --delayed-ack yes
	[ "$status" -eq 2 ]
	[[ "$output" == *"--delayed-ack 'yes': expected auto, on or off"* ]]
	run "$TWKIT" bench --linger0 never
	[ "$status" -eq 2 ]
	[[ "$output" == *"--linger0 'never': expected client, server, both or none"* ]]
	# a matrix variant is re-parsed through the same table
	printf 'ok --linger0 both\nbad --threads 99\n' >"$BATS_TEST_TMPDIR/m"
	run "$TWKIT" bench --matrix "$BATS_TEST_TMPDIR/m" -n 10
	[ "$status" -eq 2 ]
	[[ "$output" == *"--matrix line 2 (bad): --threads '99': expected a count"* ]]
	# 1h30m and 7d are durations; the typed values land in the config
	run bench_in_ns -- "$TWKIT" bench --timeout 1h30m --request-timeout 7d --linger0 both \
		--bind-no-port off --count 20 --json -q
	[ "$status" -eq 0 ]
	[ "$(bj .config.idle_timeout_s)" = 5400 ]
	[ "$(bj .config.request_timeout_s)" = 604800 ]
	[ "$(bj .config.linger0)" = both ]
	[ "$(bj .config.bind_no_port)" = false ]
	[ "$(bj .totals.completed)" -eq 20 ]
	printf 'lg --linger0 client --delayed-ack off\nka --requests-per-conn 5\nbase\n' >"$BATS_TEST_TMPDIR/m"
	run bench_in_ns -- "$TWKIT" bench --matrix "$BATS_TEST_TMPDIR/m" -n 20 --json -q
	[ "$status" -eq 0 ]
	# a variant's words override the command line's; auto is worked out per variant
	[ "$(bj '[.variants[].config.linger0] | join(",")')" = client,none,none ]
	[ "$(bj '[.variants[].config.delayed_ack] | join(",")')" = false,false,true ]
	[ "$(bj '.variants[1].config.requests_per_conn')" -eq 5 ]
	# --help shows every choice's words and the defaults from the table
	run "$TWKIT" bench --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--linger0 client|server|both|none"*"[none]"* ]]
	[[ "$output" == *"--delayed-ack auto|on|off"*"[auto]"* ]]
	[[ "$output" == *"--port-select kernel|app"*"[kernel]"* ]]
	[[ "$output" == *"--connect-timeout DURATION"*"[5s]"* ]]
	[[ "$output" == *"--max-request BYTES"*"[1MiB]"* ]]
}

@test "bench cli: --target takes host names; one that does not resolve is named (exit 2)" {
	# localhost comes from /etc/hosts: no lookup leaves the machine
	run bench_in_ns -- "$TWKIT" bench run --target localhost:1 -d 1s --json -q
	[ "$status" -eq 1 ] # nothing completed: every connect() was refused
	[[ "$(jq -r .config.target <<<"$output")" == @(127.0.0.1:1|\[::1\]:1) ]]
	run "$TWKIT" bench run --target nohost.invalid:80 -d 1s
	[ "$status" -eq 2 ]
	[[ "$output" == *"--target 'nohost.invalid:80': cannot resolve 'nohost.invalid'"* ]]
	run "$TWKIT" bench run --target localhost:http -d 1s
	[ "$status" -eq 2 ]
	[[ "$output" == *"'http' is not a port"* ]]
}

@test "bench cli: a port in use is a runtime error (exit 3)" {
	run bench_in_ns -- bash -c '
		"$0" bench serve --listen 127.0.0.1:18999 --duration 3s -q 2>/dev/null & p=$!
		sleep 0.5
		"$0" bench serve --listen 127.0.0.1:18999 --duration 1s; rc=$?
		kill $p; wait $p; exit $rc' "$TWKIT"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot start"* ]]
}

@test "bench cli: SIGINT prints the report so far, counts still add up" {
	run bench_in_ns -- bash -c '
		"$0" bench --duration 30s --json -q > "$1" & p=$!
		sleep 1.5; kill -INT $p; wait $p' "$TWKIT" "$BATS_TEST_TMPDIR/out.json"
	[ "$status" -eq 0 ]
	output=$(cat "$BATS_TEST_TMPDIR/out.json")
	[ "$(bj .totals.interrupted)" = true ]
	[ "$(bj '.totals.elapsed_s < 10')" = true ]
	[ "$(bj .totals.completed)" -gt 0 ]
	[ "$(bj '.totals.attempted == .totals.completed + .totals.failed_total + .totals.in_flight')" = true ]
}

@test "bench cli: human report, csv and svg series" {
	run bench_in_ns -- "$TWKIT" bench -d 2s -q --csv "$BATS_TEST_TMPDIR/s.csv" \
		--svg "$BATS_TEST_TMPDIR/s.svg"
	[ "$status" -eq 0 ]
	[[ "$output" == *"TIME-WAIT"* ]]
	[[ "$output" == *"client closes first"* ]]
	head -1 "$BATS_TEST_TMPDIR/s.csv" | grep -q '^t,rate,failed,tw_client,tw_server,in_flight,EADDRNOTAVAIL,ETIMEDOUT,ECONNREFUSED,ECONNRESET,EMFILE,other$'
	[ "$(wc -l < "$BATS_TEST_TMPDIR/s.csv")" -ge 3 ]
	grep -q '<svg' "$BATS_TEST_TMPDIR/s.svg"
}

@test "bench cli: http keep-alive and close against the built-in server" {
	run bench_in_ns -- "$TWKIT" bench --proto http --requests-per-conn 10 --count 500 --json -q
	[ "$status" -eq 0 ]
	[ "$(bj .totals.completed)" -eq 500 ]
	[ "$(bj .totals.requests)" -eq 5000 ]
	[ "$(bj .totals.non_2xx)" -eq 0 ]
	[ "$(bj .server.requests)" -eq 5000 ]
	run bench_in_ns -- "$TWKIT" bench --proto http --close server --linger0 server --count 300 --json -q
	[ "$status" -eq 0 ]
	[ "$(bj .totals.completed)" -eq 300 ]
	[ "$(bj .time_wait.server_max)" -eq 0 ]
	[ "$(bj .time_wait.client_max)" -eq 0 ]
}

@test "bench cli: http against nginx" {
	command -v nginx >/dev/null || skip "nginx not installed"
	d=$BATS_TEST_TMPDIR
	mkdir -p "$d/www"; echo hello > "$d/www/index.html"
	cat > "$d/nginx.conf" <<NGX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:18088; location / { return 200 "hello\n"; } } }
NGX
	run bench_in_ns -- bash -c '
		nginx -c "$1/nginx.conf" -g "daemon off;" & p=$!
		for i in $(seq 50); do [ -s "$1/nginx.pid" ] && break; sleep 0.1; done
		"$0" bench run --target 127.0.0.1:18088 --proto http --close server --count 200 --json -q
		rc=$?; kill $p; wait $p; exit $rc' "$TWKIT" "$d"
	[ "$status" -eq 0 ]
	[ "$(bj .totals.completed)" -eq 200 ]
	[ "$(bj .totals.non_2xx)" -eq 0 ]
	[ "$(bj .totals.bytes_in)" -gt 200 ]
}

@test "bench cli: builtin matrix compares the mitigations" {
	run bench_in_ns "net.ipv4.ip_local_port_range=40000 40499" net.ipv4.tcp_tw_reuse=0 -- \
		"$TWKIT" bench --matrix builtin --duration 1s --rate 700 --json -q
	[ "$status" -eq 0 ]
	[ "$(bj '.variants | length')" -eq 7 ]
	[ "$(bj '.variants[0].config.name')" = baseline ]
	# app-ports, last, on an address of its own: 700 connections over the 500 ports, each
	# TIME-WAIT taken over when the cursor comes back (tcp_tw_reuse=0 does not matter, §2.3)
	[ "$(bj '.variants[6] | .config.name == "app-ports" and .totals.failed_total == 0 and .totals.completed > 500')" = true ]
	[ "$(bj '.variants[0].totals.failed.EADDRNOTAVAIL // 0')" -gt 0 ]
	[ "$(bj '.variants[] | select(.config.name=="linger0-client") | .totals.failed.EADDRNOTAVAIL // 0')" -eq 0 ]
	run bench_in_ns -- "$TWKIT" bench --matrix builtin -d 1s -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"server-close"* ]]
}

@test "bench cli: the server survives garbage, slowloris and vanishing clients" {
	run bench_in_ns -- bash -c '
		set -e
		"$0" bench serve --listen 127.0.0.1:18090 --timeout 1s --duration 6s --json \
			> "$1/serve.json" 2>/dev/null & p=$!
		sleep 0.5
		# garbage
		for i in 1 2 3; do
			exec 5<>/dev/tcp/127.0.0.1/18090; printf "\x16\x03\x01 not http\r\n\r\n" >&5; exec 5>&-
		done
		# slowloris: half a request head, then silence
		for i in $(seq 20); do
			exec {fd}<>/dev/tcp/127.0.0.1/18090; printf "GET / HTTP/1.1\r\nX-a: " >&$fd
		done
		# a client that vanishes mid-request
		exec 6<>/dev/tcp/127.0.0.1/18090; printf "TWK1" >&6; exec 6>&-
		# the others are still served, and the slow ones are timed out
		"$0" bench run --target 127.0.0.1:18090 --count 200 --json -q > "$1/run.json"
		sleep 2
		kill -TERM $p; wait $p' "$TWKIT" "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ]
	output=$(cat "$BATS_TEST_TMPDIR/run.json")
	[ "$(bj .totals.completed)" -eq 200 ]
	output=$(cat "$BATS_TEST_TMPDIR/serve.json")
	[ "$(bj .server.bad_requests)" -ge 3 ]
	[ "$(bj .server.idle_timeouts)" -ge 20 ]
	[ "$(bj .server.requests)" -eq 200 ]
}
