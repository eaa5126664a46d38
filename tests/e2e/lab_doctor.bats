#!/usr/bin/env bats
# twkit lab --doctor on the real kernel: every doctor finding fires in a scenario where the lab
# measures what it says, and stays quiet in a healthy twin (docs/lab.md "doctor in the lab").
# Each run: twkit doctor --json in every namespace at half time and at the end, the checks
# (a failed host named its cause by half time, a healthy host had no critical, eta_s within
# ±25% of the first EADDRNOTAVAIL) all agree, so lab exits 0.

load lib/lab

setup() {
	lab_need_root
	command -v jq >/dev/null || skip "needs jq"
}

# Run scenario $1 with --doctor; fail unless doctor agrees with the lab on every host.
doctor_run() {
	local rc=0
	lab_json "$1" --doctor --wait 10m -q || rc=$?
	if [ "$rc" -ne 0 ] || [ "$(lj .doctor.all_agree)" != true ]; then
		echo "lab exited $rc" >&2
		cat "$BATS_TEST_TMPDIR/lab.err" >&2
		jq -c '.doctor.checks, .traffic' "$LAB_JSON" >&2 || true
		return 1
	fi
}

# Severities of finding $2 on host $1 over both samples, one per line ("" if it never fired).
sev_of() {
	lj --arg h "$1" --arg id "$2" \
		'.doctor.hosts[] | select(.host == $h) | .findings[] | select(.id == $id) | .severity'
}

# No critical finding anywhere on host $1.
no_critical() {
	[ -z "$(lj --arg h "$1" '.doctor.hosts[] | select(.host == $h) | .findings[] |
		select(.severity == "critical") | .id')" ]
}

@test "lab --doctor stress-client: port-exhaustion at half time, eta_s within 25% of the first failure; narrow-port-range; no bucket overflow" {
	doctor_run stress-client
	[ "$(lj '.traffic.failed.EADDRNOTAVAIL')" -gt 0 ]
	# the half-time sample already names the cause, with a forecast
	[ "$(lj '.doctor.hosts[0].findings[] | select(.id == "port-exhaustion") | .severity')" = critical ]
	eta=$(lj '.doctor.hosts[0].findings[] | select(.id == "port-exhaustion") | .eta_s')
	[ "$eta" != null ]
	[ "$(lj '[.doctor.checks[] | select(.metric == "eta_s" and .agrees)] | length')" -eq 1 ]
	[[ "$(sev_of client narrow-port-range)" == *warning* ]]
	[ -z "$(sev_of client tw-bucket-overflow)" ]
	[ -z "$(sev_of server lb-quadruplet-budget)" ]
}

@test "lab --doctor stress-client-wide: the default range, no failure, no finding (twin of port-exhaustion and narrow-port-range)" {
	doctor_run stress-client-wide
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ -z "$(sev_of client port-exhaustion)" ]
	[ -z "$(sev_of client narrow-port-range)" ]
	no_critical client
}

@test "lab --doctor stress-client-server-close: server-time-wait on the server, no port-exhaustion, no critical" {
	doctor_run stress-client-server-close
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[[ "$(sev_of server server-time-wait)" == *info* ]]
	[ -z "$(sev_of client port-exhaustion)" ]
	[ -z "$(sev_of server lb-quadruplet-budget)" ]
	no_critical client
	no_critical server
}

@test "lab --doctor server-close-one-remote: 3x the old quadruplet 'ceiling' from one address: zero failures, lb-quadruplet-budget info 'no ceiling', no critical" {
	doctor_run server-close-one-remote
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ "$(lj '.traffic.completed')" -ge 20000 ]
	sev=$(sev_of server lb-quadruplet-budget | sort -u)
	[ "$sev" = info ]
	no_critical server
	no_critical client
	# and doctor's own words, on the same kind of host (loopback here, in a private netns)
	run unshare -n sh -c 'ip link set lo up && "$0" bench -r 1500/s -d 12s --close server -q >/dev/null &&
		"$0" doctor --json' "$TWKIT"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.findings[] | select(.id == "lb-quadruplet-budget") |
		select(.severity == "info") | select(.summary | test("no ceiling"))' >/dev/null
	! echo "$output" | jq -r '.findings[].summary' | grep -q "will start failing"
}

@test "lab --doctor lb-server-close: an L7 balancer with one address, the server closing first at 3x the old ceiling: every connection completes, lab and sim agree, lb-quadruplet-budget info on the server, no critical" {
	lab_json lb-server-close --doctor --compare -q || true
	[ "$(lj .doctor.all_agree)" = true ]
	[ "$(lj .l7_balancer.relay)" = twkit ]
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ "$(lj '.traffic.completed')" -ge 20000 ]
	[ "$(lj '.l7_balancer.backend_failed')" -eq 0 ]
	# the server holds the TIME-WAITs from the balancer's one address: more than the old
	# "ceiling" would allow to open in a minute at its rate, and every one was reopened
	tw=$(lj '.hosts[] | select(.name == "server") | .time_wait_max')
	[ "$tw" -ge 7058 ] # a quarter of 28,232
	[ "$(lj .compare.all_within_10pct)" = true ]
	[ "$(sev_of server lb-quadruplet-budget | sort -u)" = info ]
	no_critical server
	no_critical lb
	no_critical client
	# nginx closes its upstream connections itself: that relay is refused for this one
	run "$TWKIT" lab lb-server-close --relay nginx
	[ "$status" -eq 2 ]
	[[ "$output" == *"--relay twkit"* ]]
}

@test "lab --doctor slb-strips-ts: the balancer strips timestamps: tw-reuse-ineffective on the client, port-exhaustion named before the failures" {
	doctor_run slb-strips-ts
	[ "$(lj '.traffic.failed.EADDRNOTAVAIL')" -gt 0 ]
	[[ "$(sev_of client tw-reuse-ineffective)" == *warning* ]]
	[ "$(lj '.doctor.checks[] | select(.host == "client" and .metric == "failure named") | .agrees')" = true ]
}

@test "lab --doctor tw-reuse-client: reuse works: no tw-reuse-ineffective, no critical (twin of slb-strips-ts)" {
	doctor_run tw-reuse-client
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[ -z "$(sev_of client tw-reuse-ineffective)" ]
	no_critical client
}

@test "lab --doctor bucket-overflow: tw-bucket-overflow (a warning: nothing fails), myth-max-tw-buckets" {
	doctor_run bucket-overflow
	[ "$(lj '.traffic.failed_total')" -eq 0 ]
	[[ "$(sev_of client tw-bucket-overflow)" == *warning* ]]
	[[ -n "$(sev_of client myth-max-tw-buckets)" ]]
	no_critical client
}

@test "lab --doctor: the human report has the table and says doctor agrees" {
	run "$TWKIT" lab stress-client --doctor --wait 10m -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"doctor in the lab"* && "$output" == *"failure named"* ]]
	[[ "$output" == *"doctor agrees with the lab on every host"* ]]
}
