#!/usr/bin/env bats
# twkit lab connect-cost-{low,half,full} --compare: connect()'s kernel CPU on the real kernel
# (the client process's own ru_stime over its completed connections) against sim's price of
# the same connects (model/portsearch.h), at three occupancies of a narrow range; the row is
# sys_us_per_conn, checked within ±25%. The kernel decides: the fuller range costs more, and
# sim says so by about as much (below: why the test holds the ratios).

load lib/lab

sys_row() { lj '.compare.fidelity[] | select(.metric == "sys_us_per_conn") | '"$1"; }

# What the kernel showed: the same low run reads 58 to 115 us a connection between hours on
# this shared 2-vCPU machine (one CI run: 96-100 us three times in a row, where the default
# price, 75 us, was this machine's median in another hour). An absolute ±25% against a fixed
# price holds in one hour and not in the next, so the product shows it (the row's
# within_tolerance, docs/lab.md) and the test holds what does not move with the machine's
# hour: each fuller range's cost relative to the low run's, measured minutes apart, against
# sim's same ratio, within ±25%. A run outside is run again (up to three), each printed.
cost_json() { # $1 = low|half|full: run it, keep lab and sim's sys_us_per_conn
	lab_json "connect-cost-$1" --compare -q || true
	[ "$(lj .schema)" = "twkit.lab/1" ]
	[ "$(sys_row .checked)" = true ]
	[ "$(sys_row .tolerance)" = 0.25 ]
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	echo "# connect-cost-$1: lab $(sys_row .lab) us, sim $(sys_row .sim) us, rel $(sys_row .rel_diff) (absolute)" >&3
	echo "$(sys_row .lab) $(sys_row .sim)" >"$BATS_FILE_TMPDIR/$1"
}

# lab(x)/lab(low) against sim(x)/sim(low): prints it, exit 0 when within ±25%
ratio_ok() {
	read -r ll sl <"$BATS_FILE_TMPDIR/low"
	read -r lx sx <"$BATS_FILE_TMPDIR/$1"
	awk -v ll="$ll" -v sl="$sl" -v lx="$lx" -v sx="$sx" -v n="$1" 'BEGIN {
		lr = lx / ll; sr = sx / sl; rel = lr / sr - 1
		printf "# connect-cost-%s / low: lab %.3f, sim %.3f, rel %+.1f%%\n", n, lr, sr, rel * 100
		exit !(rel <= 0.25 && rel >= -0.25) }' >&3
}

@test "lab connect-cost-low: about one port examined a connect; the row is checked at ±25%" {
	lab_need_root
	cost_json low
	# sim's walk: about one port a connect at 10% held
	awk -v p="$(lj '.compare.sim.hosts[] | select(.name == "client") | .connect_probes_mean')" \
		'BEGIN { exit !(p >= 1 && p < 1.5) }'
}

@test "lab connect-cost-half: its cost over low's, as sim says (±25%)" {
	lab_need_root
	[ -s "$BATS_FILE_TMPDIR/low" ] || skip "needs the low run above"
	local try
	for try in 1 2 3; do
		cost_json half
		ratio_ok half && return 0
		cost_json low
	done
	return 1
}

@test "lab connect-cost-full: every connect walks the first parity: its cost over low's, as sim says (±25%)" {
	lab_need_root
	[ -s "$BATS_FILE_TMPDIR/low" ] || skip "needs the low run above"
	local try ok=
	for try in 1 2 3; do
		cost_json full
		if ratio_ok full; then ok=1; break; fi
		cost_json low
	done
	[ -n "$ok" ]
	# sim's count of ports examined: hundreds a connect; and the kernel's cost is well above low's
	[ "$(lj '.compare.sim.hosts[] | select(.name == "client") | .connect_probes_mean | floor')" -gt 100 ]
	read -r ll _ <"$BATS_FILE_TMPDIR/low"
	read -r lf _ <"$BATS_FILE_TMPDIR/full"
	awk -v f="$lf" -v l="$ll" 'BEGIN { exit !(f > l * 1.15) }'
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
