#!/usr/bin/env bats
# twkit sim: connect()'s price (model/portsearch.h) per connecting host — ports examined and
# kernel CPU in the text and JSON, --explain saying when the CPU bound comes before the port
# bound, the engine holding a CPU-bound host to what one core does, port_select = app, and the
# keys' errors.

setup() { : "${TWKIT:?}"; }

@test "sim cost: JSON hosts[].connect gives probes, prices and the CPU share" {
	# at the default price the walk of the first parity binds the CPU: the range is full
	# (and the failing walk examines all of it) later than 28 s
	run "$TWKIT" sim stress-client --duration 70s --json --no-series
	[ "$status" -eq 0 ]
	c='.hosts[] | select(.name == "loadgen") | .connect'
	[ "$(echo "$output" | jq "$c.probes.max")" -eq 28232 ]
	[ "$(echo "$output" | jq "$c.probes.p99")" -ge 14116 ]
	[ "$(echo "$output" | jq "$c.connect_probe_ns")" -gt 0 ]
	[ "$(echo "$output" | jq "$c.cpu_bound")" = true ]
	[ "$(echo "$output" | jq "$c.queued")" -gt 0 ]
	# the server accepts, it does not connect
	[ "$(echo "$output" | jq '.hosts[] | select(.name == "web") | has("connect")')" = false ]
}

@test "sim cost: --set connect_probe_ns=0 connect_base_ns=0 gives the port bound alone" {
	run "$TWKIT" sim stress-client --duration 40s --json --no-series \
		--set loadgen.connect_probe_ns=0 --set loadgen.connect_base_ns=0
	[ "$status" -eq 0 ]
	awk -v f="$(echo "$output" | jq .summary.first_failure_s)" 'BEGIN { exit !(f > 27.9 && f < 28.5) }'
	[ "$(echo "$output" | jq '.hosts[0].connect.queued')" -eq 0 ]
}

@test "sim cost: a 1 ms connect() at 2k/s: the host does 1k/s, connects wait, the text says the CPU bound came first" {
	run "$TWKIT" sim tw-reuse-client --duration 10s --set loadgen.connect_base_ns=1000000
	[ "$status" -eq 0 ]
	[[ "$output" == *"the CPU bound came first"* ]]
	[[ "$output" == *"waiting for a busy core"* ]]
	ok=$(echo "$output" | sed -n 's/^connect(): \([0-9,]*\) ok.*/\1/p' | tr -d ,)
	[ "$ok" -le 10001 ] && [ "$ok" -ge 9900 ]
}

@test "sim cost: --explain gives connect()'s price and when the CPU bound comes first" {
	run "$TWKIT" sim stress-client --duration 1s --explain
	[ "$status" -eq 0 ]
	[[ "$output" == *"connect()'s price ("*"ns a port examined"* ]]
	[[ "$output" == *"Past the port bound"*"connects queue behind the CPU"* ]]
	run "$TWKIT" sim tw-reuse-client --duration 1s --explain --kernel 6.18 --set loadgen.rate=20k/s
	[[ "$output" == *"CPU bound comes first even with an empty range"* ]]
}

@test "sim cost: port_select = app examines no port and takes the exact 4-tuple's TIME-WAIT" {
	run "$TWKIT" sim stress-client --duration 70s --json --no-series --set loadgen.port_select=app
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .summary.connect_errors.EADDRNOTAVAIL)" -eq 0 ]
	[ "$(echo "$output" | jq '.hosts[0].connect.probes.max')" -eq 1 ]
	[ "$(echo "$output" | jq '.hosts[0].counters.TWRecycled')" -gt 40000 ]
	run "$TWKIT" sim stress-client --duration 1s --explain --set loadgen.port_select=app
	[[ "$output" == *"port_select = app"*"no search"* ]]
}

@test "sim cost: bad values name the key and exit 2" {
	run "$TWKIT" sim stress-client --set loadgen.connect_probe_ns=-5
	[ "$status" -eq 2 ]
	[[ "$output" == *"connect_probe_ns"* ]]
	run "$TWKIT" sim stress-client --set loadgen.port_select=random
	[ "$status" -eq 2 ]
	[[ "$output" == *"kernel or app"* ]]
	run "$TWKIT" sim stress-client --set web.connect_base_ns=5
	[ "$status" -eq 2 ]
}

@test "sim cost: --set connect_probe_ns=N without a section (bench --calibrate's line) sets every connecting node" {
	run "$TWKIT" sim lb-quadruplets --duration 2s --json --no-series --set connect_probe_ns=32 \
		--set connect_base_ns=7000
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '[.hosts[] | select(.connect) | .connect.connect_probe_ns] | unique')" = "$(printf '[\n  32\n]')" ]
	[ "$(echo "$output" | jq '[.hosts[] | select(.connect) | .connect.connect_base_ns] | unique | .[0]')" -eq 7000 ]
	run "$TWKIT" sim stress-client --set connect_probe_ns=x
	[ "$status" -eq 2 ]
}
