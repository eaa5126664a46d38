#!/usr/bin/env bats
# twkit sim from the command line: the catalogue, each built-in's defining number through
# --json, the output formats, byte-identical reruns, and bad scenario files (file:line, exit 2).
# Pure computation: no sockets, no root.

setup() {
	tmp=$(mktemp -d)
}
teardown() {
	rm -rf "$tmp"
}

@test "sim: --list names the twelve built-ins, --help and bad options" {
	run "$TWKIT" sim --list
	[ "$status" -eq 0 ]
	for s in stress-client lb-quadruplets nat-recycle random-offsets slb-strips-ts \
		tw-reuse-client tw-memory bucket-overflow nat-gw-gcp nat-gw-aws nat-gw-azure-lb \
		nat-gw-idle; do
		[[ "$output" == *"$s"* ]]
	done
	[ "$(echo "$output" | wc -l)" -eq 12 ]
	run "$TWKIT" sim --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"--set"* && "$output" == *"--kernel"* ]]
	run "$TWKIT" sim --bogus stress-client
	[ "$status" -eq 2 ]
	run "$TWKIT" sim
	[ "$status" -eq 2 ]
	run "$TWKIT" sim no-such-scenario
	[ "$status" -eq 2 ]
	[[ "$output" == *"no built-in scenario 'no-such-scenario'"* ]]
	run "$TWKIT" sim stress-client --kernel 1.0
	[ "$status" -eq 2 ]
	run "$TWKIT" sim stress-client --duration soon
	[ "$status" -eq 2 ]
	[[ "$output" == *"--duration 'soon'"* ]]
}

@test "sim: the option table types and bounds every option: bad values name the option, exit 2" {
	# --duration: a duration from 1s to 7d (the table's bounds), checked before the scenario
	for d in 8d 500ms 7x; do
		run "$TWKIT" sim stress-client --duration "$d"
		[ "$status" -eq 2 ]
		[[ "$output" == *"--duration '$d': expected a duration such as 90s, 1h30m or 7d, from 1s to 7d"* ]]
	done
	run "$TWKIT" sim no-such-scenario --duration 8d
	[ "$status" -eq 2 ]
	[[ "$output" == *"--duration '8d'"* ]]
	# 1h30m and 7d are durations; --duration wins over the scenario's (--show prints the
	# built-in as written, so the JSON says it)
	run "$TWKIT" sim stress-client -q --duration 1h30m --json --no-series --max-memory 0
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .duration_s)" = 5400 ]
	run "$TWKIT" sim stress-client -q --duration 7d --show
	[ "$status" -eq 0 ]
	# --max-memory: a size; 0 is no limit
	run "$TWKIT" sim stress-client --max-memory 2GB/s
	[ "$status" -eq 2 ]
	[[ "$output" == *"--max-memory '2GB/s': expected a size such as 4096, 64KiB or 1MiB (0: no limit)"* ]]
	# --seed keeps 64 bits exactly (the INI key's grammar)
	run "$TWKIT" sim stress-client -q --duration 1s --seed 18446744073709551615 --json --no-series
	[ "$status" -eq 0 ]
	[[ "$output" == *'"seed": 18446744073709551615,'* ]]
	run "$TWKIT" sim stress-client --seed 1e3
	[ "$status" -eq 2 ]
	[[ "$output" == *"--seed '1e3': expected an unsigned integer"* ]]
	# --help and the lists answer whatever else is given
	run "$TWKIT" sim --help --duration soon
	[ "$status" -eq 0 ]
	[[ "$output" == *"--duration DURATION"*"default: the scenario's, else 120s) (1s to 7d)"* ]]
	[[ "$output" == *"--seed N"*"default: the scenario's, else 1"* ]]
	[[ "$output" == *"--max-memory SIZE"*"default a quarter of this machine's memory"* ]]
	run "$TWKIT" sim --list --max-memory lots
	[ "$status" -eq 0 ]
}

@test "sim: stress-client --json: EADDRNOTAVAIL after budget/rate seconds" {
	# connect() priced at 0: the port bound alone (the CPU bound is sim_cost.bats')
	run "$TWKIT" sim stress-client --duration 40s --json --set loadgen.connect_probe_ns=0 \
		--set loadgen.connect_base_ns=0
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .schema)" = "twkit.sim/1" ]
	ff=$(echo "$output" | jq .summary.first_failure_s)
	# 28232 ports / 1000 per second
	awk -v f="$ff" 'BEGIN { exit !(f > 27.9 && f < 28.5) }'
	[ "$(echo "$output" | jq .summary.connect_errors.EADDRNOTAVAIL)" -gt 10000 ]
	[ "$(echo "$output" | jq '.hosts[] | select(.name=="loadgen") | .time_wait_max')" -eq 28232 ]
	[ "$(echo "$output" | jq '.series.loadgen | length')" -eq 40 ]
	run "$TWKIT" sim stress-client --duration 70s --json --set loadgen.tw_reuse=1
	[ "$(echo "$output" | jq .summary.connect_errors.EADDRNOTAVAIL)" -eq 0 ]
	[ "$(echo "$output" | jq '.hosts[0].counters.TWRecycled')" -gt 30000 ]
}

@test "sim: lb-quadruplets ceiling is about range/60 per balancer IP" {
	run "$TWKIT" sim lb-quadruplets --duration 120s --set users.rate=20/s --json --no-series
	[ "$status" -eq 0 ]
	ok=$(echo "$output" | jq '.hosts[] | select(.name=="balancer") | .counters.connections_ok')
	awk -v n="$ok" 'BEGIN { r = n / 120; exit !(r > 450 && r < 490) }'
	run "$TWKIT" sim lb-quadruplets --duration 120s --set users.rate=20/s --set balancer.ips=2 --json --no-series
	ok2=$(echo "$output" | jq '.hosts[] | select(.name=="balancer") | .counters.connections_ok')
	awk -v a="$ok" -v b="$ok2" 'BEGIN { exit !(b > 1.9 * a && b < 2.1 * a) }'
}

@test "sim: nat-recycle drops SYNs (PAWSPassive), recycle off does not" {
	run "$TWKIT" sim nat-recycle --duration 60s --json --no-series
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .summary.syn_dropped)" -gt 100 ]
	[ "$(echo "$output" | jq '.hosts[] | select(.name=="web") | .counters.PAWSPassive')" -gt 100 ]
	[ "$(echo "$output" | jq '.hosts[] | select(.name=="phones") | .counters.TCPSynRetrans')" -gt 100 ]
	run "$TWKIT" sim nat-recycle --duration 60s --json --no-series --set web.tw_recycle=0
	[ "$(echo "$output" | jq .summary.syn_dropped)" -eq 0 ]
	run "$TWKIT" sim nat-recycle --explain --duration 20s
	[ "$status" -eq 0 ]
	[[ "$output" == *"PAWSPassive"* && "$output" == *"tcp_tw_recycle"* ]]
}

@test "sim: random-offsets drops on 4.10, not on 4.11" {
	run "$TWKIT" sim random-offsets --duration 30s --json --no-series
	[ "$(echo "$output" | jq .summary.syn_dropped)" -gt 50 ]
	run "$TWKIT" sim random-offsets --duration 30s --json --no-series --set app.kernel=4.11
	[ "$(echo "$output" | jq .summary.syn_dropped)" -eq 0 ]
}

@test "sim: slb-strips-ts piles up rate x 60, straight to the server it does not" {
	run "$TWKIT" sim slb-strips-ts --duration 70s --json --no-series
	tw=$(echo "$output" | jq '.hosts[] | select(.name=="app") | .time_wait_max')
	[ "$tw" -gt 4000 ]
	[ "$tw" -lt 4300 ]
	run "$TWKIT" sim slb-strips-ts --duration 70s --json --no-series --set app.via=web
	tw=$(echo "$output" | jq '.hosts[] | select(.name=="app") | .time_wait_max')
	[ "$tw" -lt 100 ]
}

@test "sim: tw-reuse-client, tw-memory and bucket-overflow numbers" {
	for k in 3.10 4.19 6.14; do
		run "$TWKIT" sim tw-reuse-client --duration 30s --kernel "$k" --json --no-series
		[ "$(echo "$output" | jq .summary.connect_errors.EADDRNOTAVAIL)" -eq 0 ]
	done
	run "$TWKIT" sim tw-memory --duration 65s --json --no-series
	tw=$(echo "$output" | jq '.hosts[] | select(.name=="web") | .time_wait_max')
	[ "$tw" -gt 599000 ]
	[ "$tw" -lt 601000 ]
	run "$TWKIT" sim bucket-overflow --duration 30s --csv --host web
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | head -1 | cut -d, -f1-2)" = "t,time_wait" ]
	[ "$(echo "$output" | tail -1 | cut -d, -f2)" = "5000" ]
}

@test "sim: same seed, byte-identical output; --svg writes a plot" {
	"$TWKIT" sim nat-recycle --duration 30s --json >"$tmp/a.json"
	"$TWKIT" sim nat-recycle --duration 30s --json >"$tmp/b.json"
	cmp "$tmp/a.json" "$tmp/b.json"
	"$TWKIT" sim nat-recycle --duration 30s --json --seed 9 >"$tmp/c.json"
	run cmp -s "$tmp/a.json" "$tmp/c.json"
	[ "$status" -ne 0 ]
	run "$TWKIT" sim stress-client --duration 10s --svg "$tmp/p.svg" -q
	[ "$status" -eq 0 ]
	grep -q "<svg" "$tmp/p.svg"
	# a bad --svg path is a usage error found before the run (issue 21 §4)
	run "$TWKIT" sim stress-client --duration 10s --svg /nonexistent-dir/p.svg -q
	[ "$status" -eq 2 ]
	[[ "$output" == *"/nonexistent-dir/p.svg"* ]]
	run "$TWKIT" sim stress-client --show
	[[ "$output" == *"[client loadgen]"* ]]
}

@test "sim: scenario files: a good one runs, bad ones name file:line and exit 2" {
	"$TWKIT" sim stress-client --show >"$tmp/s.ini"
	run "$TWKIT" sim "$tmp/s.ini" --duration 5s
	[ "$status" -eq 0 ]
	[[ "$output" == *"4,999 ok"* ]] # the 5000th SYN lands after the end
	printf '[sim]\nduration = 10s\n[client a]\nrate = lots\nvia = s\n[server s]\n' >"$tmp/bad.ini"
	run "$TWKIT" sim "$tmp/bad.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.ini:4: [client a] key 'rate': expected a rate"* ]]
	printf '[client a]\nvia = s\n[server s]\nbogus = 1\n' >"$tmp/bad2.ini"
	run "$TWKIT" sim "$tmp/bad2.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad2.ini:4: [server s] unknown key 'bogus'"* ]]
	head -c 4096 /dev/urandom >"$tmp/garbage.ini"
	run "$TWKIT" sim "$tmp/garbage.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"garbage.ini:"* ]]
	{ printf '[client a]\nrate = '; head -c 1048576 /dev/zero | tr '\0' 9; printf '\n'; } >"$tmp/long.ini"
	run "$TWKIT" sim "$tmp/long.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"long.ini:1: file too large"* || "$output" == *"long.ini:2: line too long"* ]]
	printf '[client a]\nvia = s\n' >"$tmp/nosrv.ini"
	run "$TWKIT" sim "$tmp/nosrv.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nosrv.ini:1: [a] key 'via': no section named 's'"* ]]
	run "$TWKIT" sim stress-client --set loadgen.rate=-1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--set [loadgen] key 'rate'"* ]]
	run "$TWKIT" sim "$tmp/missing.ini"
	[ "$status" -eq 2 ]
}

@test "sim: each client host takes the target's IPs in turn (4 hosts x 2 IPs: two budgets each, not one)" {
	f=$BATS_TEST_TMPDIR/rr.ini
	printf '[sim]\nduration = 30s\nkernel = 6.18\n[client c]\ncount = 4\nrate = 50/s\nport_range = 40000-40999\ncloses = client\nvia = s\n[server s]\nips = 2\n' >"$f"
	run "$TWKIT" sim "$f" --json --no-series
	[ "$status" -eq 0 ]
	# 1,500 connects a host in 30 s over 1,000 ports a destination: only a host that reaches
	# both IPs (750 each) never runs out; one IP a host would fail from 20 s on
	[ "$(echo "$output" | jq '.summary.connect_errors.EADDRNOTAVAIL')" -eq 0 ]
	[ "$(echo "$output" | jq '.summary.attempts')" -eq 6000 ]
}
