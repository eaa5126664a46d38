#!/usr/bin/env bats
# tw-recycle-enabled (kernels before 4.12 only) proven on replayed captures beside
# `twkit sim nat-recycle`. The running kernel has no tcp_tw_recycle (spec §4.5), so the
# captures in tests/data/recycle are real ones (a listener on 192.0.2.80:80, TIME-WAIT and
# established connections from one NAT address 203.0.113.7) rewritten by
# tests/data/recycle/generate into a 4.4.0-210-generic server with tcp_tw_recycle = 1.
# Where the numbers come from: generate runs nat-recycle with the server on 4.4 (seed 1) and
# takes the web host as it is at 65 s (capture A) and 75 s (capture B, 10 s later):
# TIME-WAIT 27 / 31 and established 1 / 3 from the series, TcpExt.PAWSPassive 2334 / 2711,
# Tcp.PassiveOpens 2446 / 2867, TcpExt.TWKilled 2418 / 2833 from --duration 65s / 75s.
# So between A and B PAWSPassive rises by 377: the SYNs sim drops in that interval. The test
# reads those numbers from sim again, so a change in the model shows up here.

setup() {
	command -v jq >/dev/null || skip "needs jq"
	TEXT="$TWKIT_BUILD/tests/helpers/twcap_text"
	DATA="$TWKIT_TOP/tests/data/recycle"
	d=$BATS_TEST_TMPDIR
	for f in recycle-a recycle-b healthy-a healthy-b upgraded-b; do
		"$TEXT" build "$DATA/$f.twcap.txt" "$d/$f.twcap"
	done
}

# the web host's PAWSPassive in the sim JSON file $1 over the series rows of seconds ($2, $3]
sim_paws() {
	jq --argjson a "$2" --argjson b "$3" \
		'[.series.web[] | select(.t > $a and .t <= $b) | .paws_passive] | add' "$1"
}

@test "doctor recycle: the capture text turns into the capture and back unchanged" {
	"$TEXT" dump "$d/recycle-b.twcap" >"$d/b.txt"
	cmp "$d/b.txt" "$DATA/recycle-b.twcap.txt"
	run "$TEXT" build /dev/null "$d/x.twcap"
	[ "$status" -ne 0 ]
}

@test "doctor recycle: tw-recycle-enabled is critical, PAWSPassive rises by the SYNs sim drops in the same 10 s" {
	# sim: the built-in (a 3.10 server) and the same with the capture's 4.4 server
	"$TWKIT" sim nat-recycle --json -q >"$d/sim310.json"
	"$TWKIT" sim nat-recycle --set web.kernel=4.4 --json -q >"$d/sim.json"
	web='.hosts[] | select(.name == "web")'
	drops=$(jq '.summary.syn_dropped' "$d/sim.json")
	[ "$drops" -gt 0 ]
	[ "$(jq "$web | .counters.PAWSPassive" "$d/sim.json")" = "$drops" ]
	[ "$(jq '.summary.connect_errors.ETIMEDOUT' "$d/sim.json")" -gt 0 ] # connections fail
	[ "$(jq '.summary.latency_ms.over_1s' "$d/sim.json")" -gt 0 ]       # SYNs retried
	before=$(sim_paws "$d/sim.json" 0 65)
	interval=$(sim_paws "$d/sim.json" 65 75)
	[ "$interval" -gt 0 ]
	[ "$interval" = "$(sim_paws "$d/sim310.json" 65 75)" ]

	# the captures are 10 s apart, and A holds what sim counted by 65 s
	run "$TWKIT" doctor --replay "$d/recycle-a.twcap" --json
	[ "$status" -eq 0 ] # without --fail-on a critical finding is no error exit
	a=$(echo "$output" | jq '.counters["TcpExt.PAWSPassive"]')
	[ "$a" = "$before" ]
	ta=$(echo "$output" | jq .collected_ms)

	run "$TWKIT" doctor --replay "$d/recycle-b.twcap" --since "$d/recycle-a.twcap" --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.kernel.release == "4.4.0-210-generic" and .kernel.has_tw_recycle' >/dev/null
	[ $(( $(echo "$output" | jq .collected_ms) - ta )) = 10000 ]
	echo "$output" | jq -e '.settings.tcp_tw_recycle == 1' >/dev/null
	echo "$output" | jq -e '.groups[0] | .direction == "incoming" and .local == "192.0.2.80:80" and .remote == "203.0.113.7"' >/dev/null
	f=$(echo "$output" | jq -c '.findings[] | select(.id == "tw-recycle-enabled")')
	[ "$(echo "$f" | jq -r .severity)" = critical ]
	ev=$(echo "$f" | jq -r '.evidence[] | select(startswith("TcpExt.PAWSPassive = "))')
	[[ "$ev" == *", rising" ]]
	b=$(echo "$ev" | sed 's/^TcpExt.PAWSPassive = \([0-9]*\) .*/\1/')
	[ $((b - a)) = "$interval" ]
}

@test "doctor recycle: the healthy twin (tcp_tw_recycle = 0) fires no tw-recycle-enabled" {
	"$TWKIT" sim nat-recycle --set web.kernel=4.4 --set web.tw_recycle=0 --json --no-series -q >"$d/sim0.json"
	[ "$(jq '.summary.syn_dropped' "$d/sim0.json")" = 0 ]
	run "$TWKIT" doctor --replay "$d/healthy-b.twcap" --since "$d/healthy-a.twcap" --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.settings.tcp_tw_recycle == 0 and .counters["TcpExt.PAWSPassive"] == 0' >/dev/null
	echo "$output" | jq -e '[.findings[] | select(.id == "tw-recycle-enabled" or .id == "myth-recycle-config")] | length == 0' >/dev/null
}

@test "doctor recycle: the same capture on 4.15 with the recycle line in a sysctl config file is myth-recycle-config" {
	# recorded with --sysctl-conf: the file is a sysctl.conf:PATH section of the capture
	run "$TWKIT" doctor --replay "$d/upgraded-b.twcap" --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.kernel.release == "4.15.0-213-generic" and (.kernel.has_tw_recycle | not)' >/dev/null
	echo "$output" | jq -e '.settings.tcp_tw_recycle == null and (.counters | has("TcpExt.PAWSPassive") | not)' >/dev/null
	echo "$output" | jq -e '[.findings[] | select(.id == "tw-recycle-enabled")] | length == 0' >/dev/null
	f=$(echo "$output" | jq -c '.findings[] | select(.id == "myth-recycle-config")')
	[ "$(echo "$f" | jq -r .severity)" = warning ]
	echo "$f" | jq -e '.evidence | index("set in /etc/sysctl.d/60-tcp.conf:2: net.ipv4.tcp_tw_recycle = 1") != null' >/dev/null
}
