#!/usr/bin/env bats
# twkit lab connect-cost-{low,half,full} --compare: connect()'s kernel CPU on the real kernel
# (the client process's own ru_stime over its completed connections) against sim's price of
# the same connects (model/portsearch.h), at three occupancies of a narrow range; the row is
# sys_us_per_conn, checked within ±25%. The kernel decides: the fuller range costs more, and
# sim says so by about as much.

load lib/lab

sys_row() { lj '.compare.fidelity[] | select(.metric == "sys_us_per_conn") | '"$1"; }

# The client's ru_stime moves with what else runs on a shared machine (58-90 us for the same
# low run here; 67 and 91 us for two half runs in a row): up to two more runs when one is
# outside the tolerance, each printed (to the log, and to stderr so a failure shows them).
cost_run() {
	lab_need_root
	local try
	for try in 1 2 3; do
		lab_json "connect-cost-$1" --compare -q || true
		[ "$(lj .schema)" = "twkit.lab/1" ]
		[ "$(sys_row .checked)" = true ]
		[ "$(sys_row .tolerance)" = 0.25 ]
		msg="connect-cost-$1 (run $try): lab $(sys_row .lab) us, sim $(sys_row .sim) us, rel $(sys_row .rel_diff)"
		echo "# $msg" >&3
		echo "$msg" >&2
		[ "$(sys_row .within_tolerance)" = true ] && break
	done
	[ "$(sys_row .within_tolerance)" = true ]
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
}

@test "lab connect-cost-low: about one port examined a connect; sys_us_per_conn within 25% of sim" {
	cost_run low
	echo "$(sys_row .lab)" >"$BATS_FILE_TMPDIR/low"
}

@test "lab connect-cost-half: sys_us_per_conn within 25% of sim" {
	cost_run half
}

@test "lab connect-cost-full: every connect walks the first parity; costs more than low, as sim says" {
	cost_run full
	# sim's count of ports examined: hundreds a connect
	[ "$(lj '.compare.sim.hosts[] | select(.name == "client") | .connect_probes_mean | floor')" -gt 100 ]
	low=$(cat "$BATS_FILE_TMPDIR/low" 2>/dev/null || echo 0)
	awk -v f="$(sys_row .lab)" -v l="$low" 'BEGIN { exit !(l == 0 || f > l * 1.15) }'
}

@test "lab: a scenario outside the catalogue's cost entries shows sys_us_per_conn unchecked" {
	lab_need_root
	f=$BATS_TEST_TMPDIR/small.ini
	printf '[sim]\nduration = 3s\n[client c]\nrate = 200/s\nport_range = 40000-40999\nvia = srv\n[server srv]\n' >"$f"
	lab_json "$f" --compare -q || true
	[ "$(sys_row .checked)" = false ]
	[ "$(sys_row .within_10pct)" = true ]
	awk -v v="$(sys_row .lab)" 'BEGIN { exit !(v > 0) }'
}

@test "lab: port_select = app is refused with exit 2, naming the key" {
	f=$BATS_TEST_TMPDIR/app.ini
	printf '[sim]\nduration = 3s\n[client c]\nrate = 50/s\nport_select = app\nvia = srv\n[server srv]\n' >"$f"
	run "$TWKIT" lab "$f" --wait 10m
	[ "$status" -eq 2 ]
	[[ "$output" == *"port_select = app"* ]]
}
