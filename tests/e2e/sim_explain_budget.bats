#!/usr/bin/env bats
# twkit sim --explain: the budget lines come from model/budget.h for the scenario as given
# (--set included), not from numbers written in the explanation's prose.

@test "sim --explain: the model's budget line follows --set (closes, tw_reuse, range, ips)" {
	run "$TWKIT" sim stress-client --explain -q --duration 1s
	[ "$status" -eq 0 ]
	[[ "$output" == *"loadgen -> web: 28,232 ports"* ]]
	[[ "$output" == *"each held 60.0 s by loadgen"* && "$output" == *"471/s new connections sustained"* ]]
	[[ "$output" == *"the last one goes after 28.2 s"* ]]
	run "$TWKIT" sim stress-client --explain -q --duration 1s --set loadgen.closes=server
	[[ "$output" == *"none held by loadgen"* && "$output" == *"no ceiling"* ]]
	run "$TWKIT" sim stress-client --explain -q --duration 1s --set loadgen.tw_reuse=1 --kernel 6.18
	[[ "$output" == *"each held 1.0 s"* && "$output" == *"fits"* ]]
	run "$TWKIT" sim stress-client --explain -q --duration 1s --set loadgen.tw_reuse=1 --kernel 4.4
	[[ "$output" == *"each held 2.0 s"* ]]
	run "$TWKIT" sim stress-client --explain -q --duration 1s --set loadgen.port_range=40000-40999
	[[ "$output" == *"1,000 ports"* && "$output" == *"17/s new connections sustained"* && "$output" == *"after 1.0 s"* ]]
	run "$TWKIT" sim stress-client --explain -q --duration 1s --set loadgen.ips=4
	[[ "$output" == *"x 4 sources"* && "$output" == *"112,928 4-tuples"* ]]
	# the prose itself carries no computed ceiling any more
	! [[ "$output" == *"28232/60"* ]]
}

@test "sim --explain: a balancer whose timestamps are stripped gets no help from tcp_tw_reuse" {
	run "$TWKIT" sim slb-strips-ts --explain -q --duration 1s
	[ "$status" -eq 0 ]
	[[ "$output" == *"tcp_tw_reuse=1 does not help"* ]]
}
