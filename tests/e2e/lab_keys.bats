#!/usr/bin/env bats
# twkit lab FILE.ini builds every key of a scenario file in its node's namespace, or refuses it
# (exit 2, naming FILE:LINE, the key and why): the lab never runs another scenario than sim.
# The issue's case: tcp_tw_reuse_delay = 400 with 300 ports at 500/s, where a lab that dropped
# the key ran the kernel's 1,000 ms and failed at 300/s while sim said 500/s.

load lib/lab

setup() {
	f=$BATS_TEST_TMPDIR/reuse-delay.ini
	cat >"$f" <<-'EOF'
	[sim]
	name = reuse-delay-400
	duration = 5s

	[client c]
	rate = 500/s
	closes = client
	port_range = 40000-40299
	tw_reuse = 1
	tw_reuse_delay = 400
	via = srv

	[server srv]
	EOF
}

# Run lab in the background (its pid names its namespaces), JSON into $LAB_JSON; then check
# that it left no namespace behind.
lab_keys_run() {
	LAB_JSON="$BATS_TEST_TMPDIR/lab.json"
	"$TWKIT" lab "$@" --json --wait 10m >"$LAB_JSON" 2>"$BATS_TEST_TMPDIR/lab.err" &
	pid=$!
	wait $pid
	rc=$?
	[ -z "$(lab_ns_of "$pid")" ]
	return $rc
}

teardown() {
	[ -n "${pid:-}" ] && lab_ns_remove "$pid" || true
}

@test "lab keys: tw_reuse_delay = 400, 300 ports at 500/s: the same run in lab and sim" {
	lab_need_root
	if [ ! -e /proc/sys/net/ipv4/tcp_tw_reuse_delay ]; then
		# before 6.14: refused, naming the key, rather than run with the kernel's 1 s
		run "$TWKIT" lab "$f" --wait 10m
		[ "$status" -eq 2 ]
		[[ "$output" == *"reuse-delay.ini:10:"* && "$output" == *"tw_reuse_delay = 400"* ]]
		skip "no net.ipv4.tcp_tw_reuse_delay on $(uname -r) (6.14+): refused with exit 2"
	fi
	lab_keys_run "$f" --compare
	[ "$(lj '.hosts[] | select(.name == "c") | .sysctls["net.ipv4.tcp_tw_reuse_delay"]')" = 400 ]
	[ "$(lj '.hosts[] | select(.name == "c") | .sysctls["net.ipv4.tcp_tw_reuse"]')" = 1 ]
	[ "$(lj '.hosts[] | select(.name == "c") | .sysctls["net.ipv4.ip_local_port_range"]')" = "40000 40299" ]
	# 300 ports reusable after 0.4 s carry 750/s: no failure at 500/s, on either side
	[ "$(lj .traffic.failed_total)" -eq 0 ]
	[ "$(lj .compare.sim.connect_errors.EADDRNOTAVAIL)" -eq 0 ]
	[ "$(lj '[.compare.fidelity[] | select(.within_10pct | not)] | length')" -eq 0 ]
	[ "$(lj .compare.all_within_10pct)" = true ]
	awk -v r="$(lj '.compare.fidelity[] | select(.metric == "rate") | .lab')" \
		'BEGIN { exit !(r > 450) }'
	# stderr says what was built, not that the kernel keys were dropped
	grep -q "tcp_tw_reuse_delay=400" "$BATS_TEST_TMPDIR/lab.err"
	! grep -q "apply to twkit sim only" "$BATS_TEST_TMPDIR/lab.err"
}

@test "lab keys: a value the lab cannot build exits 2 naming FILE:LINE, the key and why" {
	printf '[sim]\nduration = 3s\n[client c]\nrate = 50/s\nvia = srv\n[server srv]\nrfc1337 = 1\n' \
		>"$BATS_TEST_TMPDIR/k.ini"
	printf 'hz = 250\n' >>"$BATS_TEST_TMPDIR/k.ini"
	run "$TWKIT" lab "$BATS_TEST_TMPDIR/k.ini" --wait 10m
	[ "$status" -eq 2 ]
	[[ "$output" == *"k.ini:8: [server srv] hz = 250: "*"1 kHz"* ]]
	[[ "$output" == *"twkit sim"* ]]
	run "$TWKIT" lab "$f" --set c.tw_recycle=1 --wait 10m
	[ "$status" -eq 2 ]
	[[ "$output" == *"--set c.tw_recycle=1: [client c] tw_recycle = 1: "*"4.12"* ]]
	run "$TWKIT" lab "$f" --set c.rtt=30ms --wait 10m
	[ "$status" -eq 2 ]
	[[ "$output" == *"rtt = 30ms"* ]]
	run "$TWKIT" lab "$f" --set srv.service_time=5ms --wait 10m
	[ "$status" -eq 2 ]
	[[ "$output" == *"service_time = 5ms"* ]]
}

@test "lab keys: --set c.syn_retries=2 and srv.rfc1337=1 are set in their namespaces" {
	lab_need_root
	# and the defaults (hz 1000, rtt 1ms, no tw_recycle) are what the lab builds anyway
	lab_keys_run "$f" --set c.syn_retries=2 --set srv.rfc1337=1 --set sim.duration=2s \
		--set c.hz=1000 --set c.rtt=1ms --set c.tw_recycle=0
	[ "$(lj '.hosts[] | select(.name == "c") | .sysctls["net.ipv4.tcp_syn_retries"]')" = 2 ]
	[ "$(lj '.hosts[] | select(.name == "srv") | .sysctls["net.ipv4.tcp_rfc1337"]')" = 1 ]
	[ "$(lj '.hosts[] | select(.name == "srv") | .sysctls["net.ipv4.tcp_syn_retries"]')" = null ]
}

@test "lab --show: a catalogue entry as the scenario file sim runs as it is (built-in + overlay)" {
	run "$TWKIT" lab --show connect-cost-full
	[ "$status" -eq 0 ]
	[[ "$output" == *"twkit sim tw-reuse-client, its nodes renamed"* ]]
	[[ "$output" == *"port_range = 40000-41399"* && "$output" == *"[client client]"* ]]
	f=$BATS_TEST_TMPDIR/cost.ini
	"$TWKIT" lab --show connect-cost-full >"$f"
	run "$TWKIT" sim "$f" --kernel 6.18 --duration 5s --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.hosts[] | select(.name == "client") | .kind')" = client ]
	run "$TWKIT" lab --show nat-recycle
	[ "$status" -eq 2 ]
	[[ "$output" == *"twkit sim nat-recycle"* ]]
	run "$TWKIT" lab --show nope
	[ "$status" -eq 2 ]
	[[ "$output" == *"--show takes one catalogue NAME"* ]]
}
