#!/usr/bin/env bats
# twkit doctor, end to end: real sockets in private network namespaces.

load lib/doctor

setup() {
	TMP=$(mktemp -d)
}

teardown() {
	drop_pair
	rm -rf "$TMP"
}

@test "doctor: --help teaches, --version, unknown flags are usage errors" {
	run "$TWKIT" --version
	[ "$status" -eq 0 ]
	[[ "$output" == twkit\ * ]]
	run "$TWKIT" doctor --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"port-exhaustion"* ]]
	[[ "$output" == *"60000-E"* ]]
	run "$TWKIT" doctor --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--bogus'"* ]]
	run "$TWKIT" doctor --fail-on sometimes
	[ "$status" -eq 2 ]
	run "$TWKIT" doctor --json --prom
	[ "$status" -eq 2 ]
	run "$TWKIT" nosuchverb
	[ "$status" -eq 2 ]
}

@test "doctor: the option table types every value: bad ones name the option, the value and what was expected" {
	run "$TWKIT" doctor --fail-on info
	[ "$status" -eq 2 ]
	[[ "$output" == *"--fail-on 'info': expected warning or critical"* ]]
	run "$TWKIT" doctor --top -1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--top '-1': expected a count such as 1000 or 10k, from 0 to 1,000,000"* ]]
	run "$TWKIT" doctor --watch 7x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--watch '7x': expected a duration such as 90s, 1h30m or 7d, at least 100ms"* ]]
	run "$TWKIT" doctor --watch 50ms
	[ "$status" -eq 2 ]
	[[ "$output" == *"--watch '50ms'"*"at least 100ms"* ]]
	run "$TWKIT" doctor --watch 1 --count 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"--count '0': expected a count"*"from 1 to"* ]]
	run "$TWKIT" doctor --trace 2h
	[ "$status" -eq 2 ]
	[[ "$output" == *"--trace '2h': expected a duration"*"from 100ms to 1h"* ]]
	# the rules between options stay: --count without --watch
	run "$TWKIT" doctor --count 3
	[ "$status" -eq 2 ]
	[[ "$output" == *"--count goes with --watch"* ]]
	# durations as people write them, counts with a multiplier: one look, then --count ends it
	for w in 1h30m 7d; do
		run in_ns "'$TWKIT' doctor --watch $w --count 1 --top 10k --fail-on critical"
		[ "$status" -eq 0 ]
		[ "$(grep -c '^twkit doctor: kernel' <<<"$output")" -eq 1 ]
	done
	# --help: a choice's words, and the defaults
	run "$TWKIT" doctor --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--fail-on warning|critical"* ]]
	[[ "$output" == *"--watch DURATION"* ]]
	[[ "$output" == *"(bounds --prom cardinality) [20]"* ]]
	[[ "$output" == *"[nobody]"* ]]
}

@test "doctor: counts exactly what ss counts, in the right group, at the rate they were made" {
	# 1,100 connections at 100/s, the client closing first: 11 s of steady creation.
	# tcp_tw_reuse=0: with the loopback default (2) connect() may take over a 1 s old
	# TIME-WAIT it meets while scanning, and fewer than 1,100 would remain
	in_ns "sysctl -qw net.ipv4.tcp_tw_reuse=0 && '$CHURN' -p 8080 -n 1100 -r 100 >/dev/null &&
	       $WAIT_TW 1100 &&
	       ss -Htan state time-wait | wc -l > '$TMP/ss' &&
	       '$TWKIT' doctor --json > '$TMP/d.json'"
	ss=$(cat "$TMP/ss")
	[ "$ss" -eq 1100 ]
	[ "$(jq .schema "$TMP/d.json")" = '"twkit.doctor/1"' ]
	[ "$(jq .sockets.time_wait "$TMP/d.json")" -eq "$ss" ]
	[ "$(jq -r '.groups[0].direction' "$TMP/d.json")" = outgoing ]
	[ "$(jq -r '.groups[0].remote' "$TMP/d.json")" = 127.0.0.1:8080 ]
	[ "$(jq '.groups[0].time_wait' "$TMP/d.json")" -eq 1100 ]
	rate=$(jq '.groups[0].tw_rate_10s' "$TMP/d.json")
	# made at 100/s: the 10 s estimate from the timers must be within 20%
	awk -v r="$rate" 'BEGIN { exit !(r >= 80 && r <= 120) }'
	# the 60 s estimate spans the ~11 s the churn has been seen (model/budget
	# tw_rate_from_ages), not 60 s it did not run: 100/s as well
	rate60=$(jq '.groups[0].tw_rate_60s' "$TMP/d.json")
	awk -v r="$rate60" 'BEGIN { exit !(r >= 80 && r <= 120) }'
	for k in schema kernel settings counters sockets groups memory findings; do
		jq -e "has(\"$k\")" "$TMP/d.json" >/dev/null
	done
}

@test "doctor: a filled 1,000-port range is critical port-exhaustion, --fail-on exits 1" {
	run in_ns "sysctl -qw net.ipv4.ip_local_port_range='40000 40999' net.ipv4.tcp_tw_reuse=0 &&
	           '$CHURN' -p 8080 -n 1000 >/dev/null;
	           '$TWKIT' doctor --json > '$TMP/d.json';
	           '$TWKIT' doctor --fail-on critical > '$TMP/d.txt'"
	[ "$status" -eq 1 ]
	[ "$(jq -r '.findings[0].id' "$TMP/d.json")" = port-exhaustion ]
	[ "$(jq -r '.findings[0].severity' "$TMP/d.json")" = critical ]
	[ "$(jq '.groups[0].ports_usable' "$TMP/d.json")" -eq 1000 ]
	[ "$(jq '.groups[0].utilization' "$TMP/d.json")" = 1 ]
	grep -q '^PROBLEM: 1 critical' "$TMP/d.txt"
	# loopback with timestamps on: the cheapest fix named first is tcp_tw_reuse
	jq -r '.findings[0].advice[0]' "$TMP/d.json" | grep -q 'tcp_tw_reuse=1'
	jq -e '[.findings[].id] | index("narrow-port-range")' "$TMP/d.json" >/dev/null
}

@test "doctor: the server closing first is server-time-wait, harmless, no exhaustion" {
	in_ns "'$CHURN' -p 8080 -n 300 -s >/dev/null; $WAIT_TW 300; '$TWKIT' doctor --json > '$TMP/d.json'"
	[ "$(jq .sockets.time_wait_incoming "$TMP/d.json")" -eq 300 ]
	[ "$(jq -r '.findings[] | select(.id=="server-time-wait") | .severity' "$TMP/d.json")" = info ]
	jq -r '.findings[] | select(.id=="server-time-wait") | .summary' "$TMP/d.json" | grep -q harmless
	[ -z "$(jq -r '.findings[] | select(.id=="port-exhaustion") | .id' "$TMP/d.json")" ]
	[ "$(jq -r '.groups[0].direction' "$TMP/d.json")" = incoming ]
	[ "$(jq -r '.groups[0].local' "$TMP/d.json")" = 127.0.0.1:8080 ]
}

@test "doctor: peer without timestamps and tcp_tw_reuse=1 is tw-reuse-ineffective" {
	make_pair
	ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_timestamps=0
	ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_tw_reuse=1
	# 200 closed by the client + 5 held established, listener in the server namespace
	ip netns exec "$NS_C" "$CHURN" -a 192.0.2.2 -p 80 -L "$NS_S" -n 200 -e 5 -H 20 \
		> "$TMP/churn" &
	BG_PID=$!
	for _ in $(seq 100); do grep -q made "$TMP/churn" && break; sleep 0.1; done
	grep -q 'made 200, failed 0' "$TMP/churn"
	"$TWKIT" doctor --netns "$NS_C" --json > "$TMP/d.json"
	[ "$(jq -r '.netns' "$TMP/d.json")" = "$NS_C" ]
	[ "$(jq -r '.groups[0].peer_timestamps' "$TMP/d.json")" = no ]
	[ "$(jq '.groups[0].established' "$TMP/d.json")" -eq 5 ]
	[ "$(jq -r '.findings[] | select(.id=="tw-reuse-ineffective") | .severity' "$TMP/d.json")" = warning ]
	# the same with timestamps on at the server: reuse applies, no finding
	kill "$BG_PID"; wait "$BG_PID" 2>/dev/null || true; BG_PID=
	ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_timestamps=1
	ip netns exec "$NS_C" "$CHURN" -a 192.0.2.2 -p 81 -L "$NS_S" -n 200 -e 5 -H 20 \
		> "$TMP/churn2" &
	BG_PID=$!
	for _ in $(seq 100); do grep -q made "$TMP/churn2" && break; sleep 0.1; done
	"$TWKIT" doctor --netns "$NS_C" --json > "$TMP/d2.json"
	[ "$(jq -r '.groups[] | select(.remote=="192.0.2.2:81") | .peer_timestamps' "$TMP/d2.json")" = yes ]
}

@test "doctor: a capture replays to the same JSON; --prom and --watch work on it" {
	in_ns "sysctl -qw net.ipv4.tcp_tw_reuse=0; '$CHURN' -p 8080 -n 500 >/dev/null;
	       '$CHURN' -p 9090 -n 80 -s >/dev/null; $WAIT_TW 580;
	       '$TWKIT' doctor --json --record '$TMP/cap' > '$TMP/live.json'"
	"$TWKIT" doctor --json --replay "$TMP/cap" > "$TMP/replay.json"
	diff <(jq 'del(.source)' "$TMP/live.json") <(jq 'del(.source)' "$TMP/replay.json")
	[ "$(jq -r .source "$TMP/replay.json")" = capture ]
	run "$TWKIT" doctor --prom --top 1 --replay "$TMP/cap"
	[ "$status" -eq 0 ]
	[[ "$output" == *'twkit_tcp_sockets{state="TIME-WAIT"} 580'* ]]
	[[ "$output" == *'twkit_finding{id="server-time-wait",severity="info"} 1'* ]]
	[ "$(grep -c '^twkit_group_time_wait_sockets{' <<<"$output")" -eq 1 ]
	run in_ns "'$TWKIT' doctor --watch 0.2 --count 3"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^twkit doctor: kernel' <<<"$output")" -eq 3 ]
}

@test "doctor: bad captures are refused with the file named, exit 3, no crash" {
	in_ns "'$TWKIT' doctor --record '$TMP/cap' >/dev/null"
	head -c 100 /dev/urandom > "$TMP/garbage"
	run "$TWKIT" doctor --replay "$TMP/garbage"
	[ "$status" -eq 3 ]
	[[ "$output" == *"$TMP/garbage: not a twkit capture"* ]]
	size=$(stat -c %s "$TMP/cap")
	head -c $((size - 5)) "$TMP/cap" > "$TMP/trunc"
	run "$TWKIT" doctor --replay "$TMP/trunc"
	[ "$status" -eq 3 ]
	[[ "$output" == *"truncated"* ]]
	cp "$TMP/cap" "$TMP/future"
	printf '\x07' | dd of="$TMP/future" bs=1 seek=8 conv=notrunc status=none
	run "$TWKIT" doctor --replay "$TMP/future"
	[ "$status" -eq 3 ]
	[[ "$output" == *"newer than this twkit"* ]]
	run "$TWKIT" doctor --replay "$TMP/nonexistent"
	[ "$status" -eq 3 ]
	[[ "$output" == *"nonexistent: cannot open"* ]]
	run "$TWKIT" doctor --netns "twk-no-such-ns-$$"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot enter network namespace"* ]]
}

@test "doctor: works unprivileged and says what it could not read" {
	command -v setpriv >/dev/null || skip "setpriv not installed"
	run in_ns "'$CHURN' -p 8080 -n 50 >/dev/null;
	           setpriv --reuid=65534 --regid=65534 --clear-groups '$TWKIT' doctor --json"
	[ "$status" -eq 0 ]
	[ "$(jq .sockets.time_wait <<<"$output")" -eq 50 ]
	[ "$(jq -r .memory.source <<<"$output")" = documented ]
	jq -r '.not_read[]' <<<"$output" | grep -q '^/proc/slabinfo: Permission denied'
}

@test "doctor --listen: /metrics is the --prom exposition, looked at anew per scrape" {
	# in a private namespace: the port, the server and the scrapes stay there
	in_ns "sysctl -qw net.ipv4.tcp_tw_reuse=0; '$CHURN' -p 8080 -n 300 >/dev/null; $WAIT_TW 300;
	       '$TWKIT' doctor --record '$TMP/cap' >/dev/null
	       '$TWKIT' doctor --listen 127.0.0.1:9798 2>'$TMP/live.err' & p=\$!
	       for _ in \$(seq 50); do curl -sf -o '$TMP/m1' http://127.0.0.1:9798/metrics && break; sleep 0.1; done
	       curl -sf -o '$TMP/m2' http://127.0.0.1:9798/metrics
	       curl -s -o '$TMP/root' -w '%{http_code}\n' http://127.0.0.1:9798/ > '$TMP/codes'
	       curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:9798/nope >> '$TMP/codes'
	       curl -s -o /dev/null -w '%{http_code}\n' -d x http://127.0.0.1:9798/metrics >> '$TMP/codes'
	       curl -sI http://127.0.0.1:9798/metrics > '$TMP/head'
	       kill \$p; wait \$p; echo \$? > '$TMP/rc'
	       '$TWKIT' doctor --listen 127.0.0.1:9799 --replay '$TMP/cap' 2>/dev/null & p=\$!
	       for _ in \$(seq 50); do curl -sf -o '$TMP/r1' http://127.0.0.1:9799/metrics && break; sleep 0.1; done
	       kill \$p; wait \$p"
	# the first scrape sees the 300 TIME-WAITs; the second also the first scrape's own
	# connection, which the server closed first
	grep -qx 'twkit_tcp_sockets{state="TIME-WAIT"} 300' "$TMP/m1"
	n2=$(sed -n 's/^twkit_tcp_sockets{state="TIME-WAIT"} //p' "$TMP/m2")
	[ "$n2" -ge 301 ]
	grep -q '^# TYPE twkit_finding gauge' "$TMP/m1"
	[ "$(cat "$TMP/codes")" = "$(printf '200\n404\n405')" ]
	grep -q '/metrics' "$TMP/root"
	grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/head"
	[ "$(cat "$TMP/rc")" -eq 0 ]
	grep -q 'serving http://127.0.0.1:9798/metrics' "$TMP/live.err"
	# a capture served is exactly what --prom prints for it, but for the time each took
	"$TWKIT" doctor --prom --replay "$TMP/cap" > "$TMP/prom"
	diff <(grep -v '^twkit_scrape_duration_seconds ' "$TMP/prom") \
		<(grep -v '^twkit_scrape_duration_seconds ' "$TMP/r1")
	grep -q '^twkit_scrape_duration_seconds [0-9.]*$' "$TMP/r1"
}

@test "doctor --listen --netns: the port stays here, the looks go there" {
	NS_C="twk-doc-$$-c"
	ip netns add "$NS_C"
	ip -n "$NS_C" link set lo up
	ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_tw_reuse=0
	ip netns exec "$NS_C" "$CHURN" -p 8080 -n 120 >/dev/null
	in_ns "'$TWKIT' doctor --listen 127.0.0.1:9798 --netns '$NS_C' 2>/dev/null & p=\$!
	       for _ in \$(seq 50); do curl -sf -o '$TMP/m' http://127.0.0.1:9798/metrics && break; sleep 0.1; done
	       ss -Hltn > '$TMP/here'; kill \$p; wait \$p"
	grep -q '127.0.0.1:9798' "$TMP/here"
	n=$(sed -n 's/^twkit_tcp_sockets{state="TIME-WAIT"} //p' "$TMP/m")
	[ "$n" -ge 115 ] && [ "$n" -le 120 ] # the last FINs may still be in flight
	run ip netns exec "$NS_C" ss -Hltn
	[[ "$output" != *":9798"* ]]
}

@test "doctor --listen: bad addresses and combinations are usage errors, a taken port exit 3" {
	for bad in nope 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 127.0.0.1:80-81 999.1.1.1:80 '[::1'; do
		run "$TWKIT" doctor --listen "$bad"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--listen wants ADDR:PORT"*"'$bad'"* ]]
	done
	for other in --json "--watch 1" "--record $TMP/x" "--fail-on warning"; do
		run "$TWKIT" doctor --listen 127.0.0.1:9798 $other
		[ "$status" -eq 2 ]
		[[ "$output" == *"--listen serves the Prometheus exposition"* ]]
	done
	run in_ns "'$TWKIT' doctor --listen 127.0.0.1:9798 2>/dev/null & p=\$!
		   for _ in \$(seq 50); do ss -Hltn | grep -q ':9798' && break; sleep 0.1; done
		   '$TWKIT' doctor --listen 127.0.0.1:9798; rc=\$?; kill \$p; wait \$p; exit \$rc"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot listen on 127.0.0.1:9798: Address already in use"* ]]
}
