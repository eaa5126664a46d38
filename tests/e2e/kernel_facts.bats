#!/usr/bin/env bats
# Facts of kernel-tw-spec.md checked on the running kernel (docs/kernel-checks.md records the
# results). Each test runs in its own network namespace (unshare -n).

load lib/doctor

setup() {
	TMP=$(mktemp -d)
}

teardown() {
	rm -rf "$TMP"
}

@test "kernel: an orphan FIN_WAIT2 is a TIME-WAIT minisocket in the FIN_WAIT2 substate (§1.1, §9)" {
	in_ns "sysctl -qw net.ipv4.tcp_fin_timeout=30
	       '$CHURN' -p 80 -n 3 -w -H 10 > '$TMP/churn' &
	       for i in \$(seq 200); do grep -qs made '$TMP/churn' && break; sleep 0.1; done
	       # the peer's ACK of our FIN may still be on its way (FIN-WAIT-1): poll
	       for i in \$(seq 100); do
	           ss -Htano state fin-wait-2 > '$TMP/ss'; [ \$(wc -l < '$TMP/ss') -ge 3 ] && break
	           sleep 0.05
	       done
	       '$TWKIT' doctor --json > '$TMP/d.json'; wait"
	cat "$TMP/ss" "$TMP/churn"
	[ "$(wc -l < "$TMP/ss")" -eq 3 ]
	# the timer is the TIME-WAIT timer, armed with tcp_fin_timeout (30 s), not 60 s;
	# ss prints the time left as "29sec" (or "6.900ms" for 6.9 s in some versions)
	left=$(grep -Eo 'timer:\(timewait,[0-9.]+' "$TMP/ss" | head -1 | sed 's/.*,//')
	[ -n "$left" ]
	awk -v l="$left" 'BEGIN { exit !(l > 0 && l <= 30) }'
	[ "$(jq .sockets.time_wait_fin_wait2 "$TMP/d.json")" -eq 3 ]
	[ "$(jq .sockets.time_wait "$TMP/d.json")" -eq 0 ]
	[ "$(jq '.sockets.by_state["FIN-WAIT-2"]' "$TMP/d.json")" -eq 3 ]
}

@test "kernel: connect()'s scan length is rounded down to even (§3.2, §10 parity)" {
	# 3 ports: remaining 3 -> 2, the offset is always 0, the top port is never offered
	run in_ns "sysctl -qw net.ipv4.ip_local_port_range='40000 40002' net.ipv4.tcp_tw_reuse=0;
	           '$CHURN' -p 8080 -n 3"
	[[ "$output" == *"made 2, failed 1, errno 99"* ]]
	# 5 ports: remaining 4, but offsets 0 and 2 exist, and a walk from 2 reaches the top port
	# The offset is random per attempt, so the last free port (the top one) is found only by
	# about half of the attempts: over 20 fresh namespaces it must be used at least once.
	made=0
	for _ in $(seq 20); do
		out=$(in_ns "sysctl -qw net.ipv4.ip_local_port_range='40000 40004' net.ipv4.tcp_tw_reuse=0;
		             '$CHURN' -p 8080 -n 5" || true)
		m=${out#made }; m=${m%%,*}
		[ "$m" -ge 4 ]
		made=$((made + m))
	done
	[ "$made" -gt 80 ]
}

@test "kernel: tcp_tw_reuse=2 takes over loopback TIME-WAIT after the 1 s delay; 0 does not (§2.2)" {
	run in_ns "sysctl -qw net.ipv4.ip_local_port_range='40000 40009';
	           '$CHURN' -p 8080 -n 10 >/dev/null; sleep 1.2; '$CHURN' -p 8080 -n 10;
	           nstat -az TcpExtTWRecycled | tail -1"
	[[ "$output" == *"made 10, failed 0"* ]]
	[[ "$output" =~ TcpExtTWRecycled\ +10 ]]
	run in_ns "sysctl -qw net.ipv4.ip_local_port_range='40000 40009' net.ipv4.tcp_tw_reuse=0;
	           '$CHURN' -p 8080 -n 10 >/dev/null; sleep 1.2; '$CHURN' -p 8080 -n 10"
	[[ "$output" == *"made 0, failed 10, errno 99"* ]]
}
