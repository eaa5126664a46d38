#!/usr/bin/env bats
# Plots that answer a question (issue 21 §5), read as structure with xmllint: every y axis
# names its unit, no panel is flat, the port budget is a line, the first failure is marked,
# lab and sim share one panel under --compare, and `sim --kernel A,B,C` draws one line per
# era. Load runs in private network namespaces (unshare -n, or the lab's own).

load lib/lab

setup() {
	command -v xmllint >/dev/null || skip "needs xmllint (libxml2-utils, scripts/deps)"
	SVG="$BATS_TEST_TMPDIR/p.svg"
}

# XPath over an SVG (its elements are in the SVG namespace: match by local name).
xp() {
	xmllint --xpath "$2" "$1" 2>/dev/null
}
# How many nodes an XPath matches.
xcount() {
	xmllint --xpath "count($2)" "$1" 2>/dev/null
}
# grep that succeeds when nothing matches (a bare `! cmd` never fails a bats test)
nomatch() {
	! grep -q "$@"
}
E() { # element by local name
	printf "*[local-name()='%s']" "$1"
}

# The checks every plot passes: well-formed; each panel's y label is "what (unit)"; the time
# axis says its unit; no tick label is an exponent; and each panel has a line that moves.
plot_sane() {
	local f=$1 n i pts
	xmllint --noout "$f"
	n=$(xcount "$f" "//$(E g)[@class='panel']")
	[ "$n" -ge 1 ]
	[ "$(xcount "$f" "//$(E text)[@class='ylabel']")" -eq "$n" ]
	# every axis label ends in "(unit)"
	[ "$(xcount "$f" "//$(E text)[@class='ylabel'][not(contains(., '(') and substring(., string-length(.)) = ')')]")" -eq 0 ]
	xp "$f" "string(//$(E text)[@class='xlabel'])" | grep -Eq '^time \((s|min|h)\)$'
	xp "$f" "//$(E text)[@class='ytick' or @class='xtick']/text()" | nomatch 'e[+-]'
	for ((i = 1; i <= n; i++)); do
		# some polyline of panel i has two different y values
		pts=$(xp "$f" "(//$(E g)[@class='panel'])[$i]/$(E polyline)/@points" |
			sed 's/ points="/\n/g' | tr -d '"')
		echo "$pts" | awk '{ for (k = 1; k <= NF; k++) { split($k, xy, ","); if (k > 1 && xy[2] != y) moved = 1; y = xy[2] } } END { exit !moved }'
	done
}

@test "plots: sim --svg: units, no flat panel, the port budget as a line, the first failure marked" {
	run "$TWKIT" sim stress-client --svg "$SVG"
	[ "$status" -eq 0 ]
	plot_sane "$SVG"
	# the TIME-WAIT panel comes first, in sockets, with the model's budget at 28,232
	[ "$(xp "$SVG" "string((//$(E g)[@class='panel'])[1]/@data-unit)")" = sockets ]
	[ "$(xp "$SVG" "string(//$(E line)[@class='budget']/@data-y)")" = 28232 ]
	# the first failure marked where the text report puts it (after 28.2 s: the range is full
	# then; later when connect()'s price holds the client to one core first)
	at=$(grep -o 'first failure at [0-9.]*s' <<<"$output" | grep -o '[0-9.]*')
	[ -n "$at" ]
	awk -v t="$at" 'BEGIN { exit !(t >= 28.2) }'
	[ "$(xcount "$SVG" "//$(E line)[@class='first-failure']")" -ge 1 ]
	xp "$SVG" "//$(E text)[@class='mark-label']/text()" | grep -q "first failure $at s"
	# rates per second, TIME-WAIT in sockets: units as the panels count them
	[ "$(xcount "$SVG" "//$(E text)[@class='ylabel'][normalize-space(.) = 'failed connect() (connections/s)']")" -eq 1 ]
	# the ticks are readable: 10k/20k/30k, not 10000 or 1e+04
	xp "$SVG" "//$(E text)[@class='ytick']/text()" | grep -qx '20k'
}

@test "plots: sim nat-recycle --svg leaves out the host where nothing happens, and says so" {
	run "$TWKIT" sim nat-recycle --svg "$SVG"
	[ "$status" -eq 0 ]
	plot_sane "$SVG"
	xp "$SVG" "//$(E polyline)/@data-label" | nomatch carrier-nat
	xp "$SVG" "string(//$(E text)[@class='subtitle'])" | grep -q 'not shown, constant over the run: carrier-nat'
	# the hosts that do something are there: the phones' timeouts and the server's drops
	xp "$SVG" "//$(E polyline)/@data-label" | grep -q 'phones: ETIMEDOUT'
	xp "$SVG" "//$(E polyline)/@data-label" | grep -q 'web: PAWSPassive'
	# --host still picks one host (and only that one)
	run "$TWKIT" sim nat-recycle --svg "$SVG" --host web
	[ "$status" -eq 0 ]
	xp "$SVG" "//$(E polyline)/@data-label" | nomatch phones
}

@test "plots: sim --kernel 2.6.32,4.10,6.18: eras side by side, one line per era on one chart" {
	run "$TWKIT" sim stress-client --kernel 2.6.32,4.10,6.18 --svg "$SVG"
	[ "$status" -eq 0 ]
	# the text report: one column per era
	grep -E '^kernel +2\.6\.32 +4\.10 +6\.18$' <<<"$output"
	grep -E '^TIME-WAIT max loadgen +28,233 +28,232 +28,232$' <<<"$output"
	plot_sane "$SVG"
	# the TIME-WAIT panel holds three lines, one per era, on the same axes
	[ "$(xcount "$SVG" "(//$(E g)[@class='panel'])[1]/$(E polyline)")" -eq 3 ]
	[ "$(xp "$SVG" "(//$(E g)[@class='panel'])[1]/$(E polyline)/@data-label" | tr -d ' ' | tr '\n' ' ')" = 'data-label="2.6.32" data-label="4.10" data-label="6.18" ' ]
	# 2.6.32's range is 32768-61000: its budget differs by one port, and is drawn apart
	[ "$(xcount "$SVG" "//$(E line)[@class='budget']")" -eq 2 ]
	# JSON: schema twkit.sim-eras/1, each era a whole twkit.sim/1 document, in order
	run "$TWKIT" sim stress-client --kernel 5.4,6.18 --json --no-series
	[ "$status" -eq 0 ]
	[ "$(jq -r .schema <<<"$output")" = twkit.sim-eras/1 ]
	[ "$(jq -c .kernels <<<"$output")" = '["5.4","6.18"]' ]
	[ "$(jq -r '.eras["6.18"].schema' <<<"$output")" = twkit.sim/1 ]
	# an era in the list is the same run as that era alone
	diff <(jq -S '.eras["5.4"]' <<<"$output") \
		<("$TWKIT" sim stress-client --kernel 5.4 --json --no-series | jq -S .)
	# --csv is one era's series: refused with a list
	run "$TWKIT" sim stress-client --kernel 5.4,6.18 --csv
	[ "$status" -eq 2 ]
	[[ "$output" == *"--json"* ]]
}

@test "plots: sim --kernel refuses unknown eras with the list and names the era a version runs as" {
	for bad in 9.9 5.4junk 2.4 "4.19,9.9" "4.19,4.19" ""; do
		run "$TWKIT" sim stress-client --kernel "$bad"
		[ "$status" -eq 2 ]
	done
	run "$TWKIT" sim stress-client --kernel 9.9
	[[ "$output" == *"newer than the newest era"* && "$output" == *"known eras: 2.6.32, 3.10"* ]]
	run "$TWKIT" sim stress-client --kernel 5.4junk
	[[ "$output" == *"not a kernel era"* && "$output" == *"6.18, host"* ]]
	run "$TWKIT" sim stress-client --kernel 5.9 -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"5.9 → modelled as 5.4"* ]]
	run "$TWKIT" sim stress-client --kernel 5.9,6.18 -q
	[ "$status" -eq 0 ]
	grep -E '^  modelled as +5\.4 +6\.18$' <<<"$output"
}

@test "plots: bench --svg: TIME-WAIT against the port budget, EADDRNOTAVAIL from its first failure" {
	command -v unshare >/dev/null || skip "needs unshare"
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private namespace"
	run unshare -n bash -c "ip link set lo up &&
		sysctl -qw net.ipv4.ip_local_port_range='40000 40999' &&
		sysctl -qw net.ipv4.tcp_tw_reuse=0 &&
		'$TWKIT' bench -d 5s --rate 500/s --svg '$SVG' -q"
	plot_sane "$SVG"
	[ "$(xp "$SVG" "string((//$(E g)[@class='panel'])[1]/@data-title)")" = TIME-WAIT ]
	[ "$(xp "$SVG" "string(//$(E line)[@class='budget']/@data-y)")" = 1000 ]
	[ "$(xcount "$SVG" "//$(E line)[@class='first-failure']")" -ge 1 ]
	xp "$SVG" "//$(E polyline)/@data-label" | grep -q EADDRNOTAVAIL
}

@test "plots: doctor --watch --svg: each busy group's ports in use, budget and eta over time" {
	command -v unshare >/dev/null || skip "needs unshare"
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private namespace"
	run "$TWKIT" doctor --svg "$SVG"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--watch"* ]]
	run unshare -n bash -c "ip link set lo up &&
		sysctl -qw net.ipv4.ip_local_port_range='40000 40999' &&
		sysctl -qw net.ipv4.tcp_tw_reuse=0 &&
		{ '$TWKIT_BUILD/tests/helpers/tw_churn' -a 127.0.0.1 -p 9000 -n 1500 -r 250 -H 2 >/dev/null 2>&1 & } &&
		'$TWKIT' doctor --watch 1 --count 8 --svg '$SVG' >/dev/null; rc=\$?; wait; exit \$rc"
	[ "$status" -eq 0 ]
	plot_sane "$SVG"
	[ "$(xp "$SVG" "string((//$(E g)[@class='panel'])[1]/@data-unit)")" = ports ]
	[ "$(xp "$SVG" "string(//$(E line)[@class='budget']/@data-y)")" = 1000 ]
	[ "$(xcount "$SVG" "//$(E polyline)[@data-label='127.0.0.1 -> 127.0.0.1:9000']")" -ge 1 ]
	xp "$SVG" "//$(E g)[@class='panel']/@data-unit" | grep -q 'data-unit="s"'
	# 1,500 connections against 1,000 ports: the budget is spent, and marked
	[ "$(xcount "$SVG" "//$(E line)[@class='first-failure']")" -ge 1 ]
}

@test "plots: lab --compare --svg overlays lab and sim in the same panels; the server's new_ok counts" {
	lab_need_root
	LAB_SVG="$BATS_TEST_TMPDIR/lab.svg"
	lab_json stress-client --compare --svg "$LAB_SVG"
	plot_sane "$LAB_SVG"
	# one TIME-WAIT panel holding both the lab's and sim's client, and the budget
	local tw="(//$(E g)[@class='panel'][@data-title='TIME-WAIT'])[1]"
	[ "$(xcount "$LAB_SVG" "$tw/$(E polyline)[@data-label='lab client']")" -eq 1 ]
	[ "$(xcount "$LAB_SVG" "$tw/$(E polyline)[@data-label='sim client']")" -eq 1 ]
	[ "$(xp "$LAB_SVG" "string($tw/$(E line)[@class='budget']/@data-y)")" = 1000 ]
	[ "$(xcount "$LAB_SVG" "//$(E line)[@class='first-failure']")" -ge 1 ]
	# no panel of its own for sim
	[ "$(xcount "$LAB_SVG" "//$(E g)[@class='panel'][@data-title='TIME-WAIT']")" -eq 1 ]
	# the server accepted what the client completed: its new_ok is not 0
	local accepted
	accepted=$(jq '[.hosts[] | select(.role == "server") | .series[].new_ok] | add' "$LAB_JSON")
	[ "$(jq '.hosts[] | select(.role == "server") | .counters["Tcp.PassiveOpens"]' "$LAB_JSON")" -eq 1000 ]
	awk -v a="$accepted" 'BEGIN { exit !(a >= 900 && a <= 1100) }'
}
