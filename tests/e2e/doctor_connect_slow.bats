#!/usr/bin/env bats
# doctor's connect-slow on the real kernel: in a private network namespace with a 3,000-port
# range and tcp_tw_reuse=0, bench's client closes first at 1,000/s for 2.5 s, leaving about
# 2,500 TIME-WAIT toward one destination: the first parity (1,500 ports) is all held, so each
# connect() walks it before the other (model/portsearch.h); doctor, run in the same
# namespace right after, says connect-slow with the cost per connect and the fixes.

load lib/bench

setup() { bench_need_root; }

fill_and_doctor() { # range-hi [doctor options...]
	local hi=$1
	shift
	run bench_in_ns "net.ipv4.ip_local_port_range=40000 $hi" net.ipv4.tcp_tw_reuse=0 -- \
		bash -c '"$1" bench --rate 1000 --duration 2500ms -q >/dev/null; "$1" doctor --json "${@:2}"' \
		bash "$TWKIT" "$@"
}

@test "doctor connect-slow: a group held past its first parity examines >1000 ports a connect" {
	fill_and_doctor 42999
	[ "$status" -le 1 ]
	f='.findings[] | select(.id == "connect-slow")'
	[ "$(bj "$f | .severity")" = warning ]
	bj "$f | .summary" | grep -Eq 'examines about [0-9,]+ ports'
	n=$(bj "$f | .summary" | sed -E 's/.*examines about ([0-9,]+) ports.*/\1/' | tr -d ,)
	[ "$n" -gt 1000 ]
	bj "$f | .advice[]" | grep -q 'keep-alive'
	bj "$f | .advice[]" | grep -q 'SO_REUSEADDR'
	bj "$f | .advice[]" | grep -q 'server close first'
}

@test "doctor connect-slow: the same churn over a range four times wider says nothing" {
	fill_and_doctor 51999
	[ "$status" -le 1 ]
	[ -z "$(bj '.findings[] | select(.id == "connect-slow") | .id')" ]
}

@test "doctor connect-slow: this machine's price (--connect-probe-ns, --connect-base-ns) replaces the model's" {
	fill_and_doctor 42999 --connect-probe-ns 1000 --connect-base-ns 5000
	[ "$status" -le 1 ]
	f='.findings[] | select(.id == "connect-slow")'
	bj "$f | .evidence[]" | grep -q 'price: 1000 ns a port examined + 5000 ns a connection (given'
	# about 1,500 to 3,000 ports at 1 us each: a millisecond or more, where the defaults say
	# a few hundred microseconds
	bj "$f | .summary" | grep -Eq 'about [0-9.]+ms of kernel CPU per connect'
	run "$TWKIT" doctor --connect-probe-ns 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"--connect-probe-ns '0': expected a count"* ]]
}
