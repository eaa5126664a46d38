#!/usr/bin/env bats
# twkit sim with cloud NAT gateways ([nat] profile = ..., docs/cloud-nat.md): each built-in
# shows its gateway's limit exactly where the budget its --explain states is crossed (drops
# below it: none; above it: SYN retransmissions, ETIMEDOUT), each fix removes them, and bad
# gateway keys fail with FILE:LINE and exit 2. Pure computation: no sockets, no root.

setup() {
	tmp=$(mktemp -d)
}
teardown() {
	rm -rf "$tmp"
}

# j SCENARIO [ARGS...]: the run's JSON without series
j() {
	"$TWKIT" sim "$@" --json --no-series -q
}

drops() { # total gateway drops of a JSON document on stdin
	jq '[.summary.gateway_drops[]] | add'
}

@test "sim cloudnat: the built-ins are listed and show their profiles" {
	run "$TWKIT" sim --list
	[ "$status" -eq 0 ]
	for s in nat-gw-gcp nat-gw-aws nat-gw-azure-lb nat-gw-idle; do
		[[ "$output" == *"$s"* ]]
	done
	run "$TWKIT" sim nat-gw-gcp --show
	[ "$status" -eq 0 ]
	[[ "$output" == *"profile = gcp-cloud-nat"* ]]
	# the shown file runs as a file, with the same result
	echo "$output" > "$tmp/gcp.ini"
	a=$(j nat-gw-gcp | jq -c .summary)
	b=$(j "$tmp/gcp.ini" | jq -c .summary)
	[ "$a" = "$b" ]
}

@test "sim cloudnat: GCP 64 ports per VM / 120 s: drops exactly above 0.53/s per VM" {
	run "$TWKIT" sim nat-gw-gcp --explain -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"ports_per_host / (connection life + hold) = 64 / (0.002 s + 120 s) = 0.53 new connections/s"* ]]
	[[ "$output" == *"after about 64.0 s"* ]]
	# at and below the budget: nothing dropped, nothing failed
	out=$(j nat-gw-gcp --set vms.rate=0.53/s)
	[ "$(echo "$out" | drops)" -eq 0 ]
	[ "$(echo "$out" | jq '[.summary.connect_errors[]] | add')" -eq 0 ]
	[ "$(echo "$out" | jq .summary.syn_retrans)" -eq 0 ]
	# just above: the VMs' blocks fill, the gateway drops, SYNs are retransmitted
	out=$(j nat-gw-gcp --set vms.rate=0.54/s)
	[ "$(echo "$out" | jq .summary.gateway_drops.ports_per_host)" -gt 0 ]
	[ "$(echo "$out" | jq .summary.syn_retrans)" -gt 0 ]
	# the built-in (1/s per VM): the first retransmission comes once 64 ports are held
	# (64 s) plus the 1 s RTO, and ETIMEDOUT after the SYN schedule
	out=$("$TWKIT" sim nat-gw-gcp --json -q)
	first=$(echo "$out" | jq '[.series.vms[] | select(.syn_retrans > 0) | .t] | min')
	awk -v t="$first" 'BEGIN { exit !(t >= 65 && t <= 66) }'
	[ "$(echo "$out" | jq .summary.connect_errors.ETIMEDOUT)" -gt 0 ]
	[ "$(echo "$out" | jq '.hosts[] | select(.name=="cloud-nat") | .gateway.peak_ports_per_destination')" -eq 256 ]
	[ "$(echo "$out" | jq '.hosts[] | select(.name=="vms") | .counters.TCPSynRetrans')" -gt 0 ]
}

@test "sim cloudnat: GCP's fixes (more ports per VM, 30 s TIME_WAIT, pooling) remove the drops" {
	for fix in "cloud-nat.ports_per_host=256" "cloud-nat.tcp_time_wait_timeout=30s"; do
		out=$(j nat-gw-gcp --set "$fix")
		[ "$(echo "$out" | drops)" -eq 0 ]
		[ "$(echo "$out" | jq '[.summary.connect_errors[]] | add')" -eq 0 ]
	done
	out=$(j nat-gw-gcp --set vms.rate=0.1/s --set vms.requests=10)
	[ "$(echo "$out" | drops)" -eq 0 ]
	# a 30 s hold: the budget is 64 / 30 s = 2.13/s per VM
	[ "$(j nat-gw-gcp --set cloud-nat.tcp_time_wait_timeout=30s --set vms.rate=2.1/s | drops)" -eq 0 ]
	[ "$(j nat-gw-gcp --set cloud-nat.tcp_time_wait_timeout=30s --set vms.rate=2.2/s | drops)" -gt 0 ]
	# three destinations, three budgets per VM (each VM meets all three: 4 hosts, 3 IPs)
	run "$TWKIT" sim nat-gw-gcp --set api.ips=3 --explain -q --duration 1s
	[[ "$output" == *"vms opens 0.33/s toward each of 3 destinations per host: within it"* ]]
	[ "$(j nat-gw-gcp --set api.ips=3 --set vms.rate=1.59/s | drops)" -eq 0 ]
	[ "$(j nat-gw-gcp --set api.ips=3 --set vms.rate=1.6/s | drops)" -gt 0 ]
	# two destinations for four VMs: each VM takes both in turn (not one each, in lockstep)
	[ "$(j nat-gw-gcp --set api.ips=2 | drops)" -eq 0 ]
	# more VMs than the address has blocks for: the rest get no port at all
	out=$(j nat-gw-gcp --set cloud-nat.ports_per_host=32256 --duration 10s)
	[ "$(echo "$out" | jq .summary.gateway_drops.host_without_ports)" -gt 0 ]
	[ "$(echo "$out" | jq .summary.gateway_drops.ports_per_host)" -eq 0 ]
}

@test "sim cloudnat: AWS 55,000 per destination per address: drops exactly above 917/s" {
	run "$TWKIT" sim nat-gw-aws --explain -q --duration 20s
	[[ "$output" == *"= 55,000 x 1 / (60.007 s + 0 s) = 917 new connections/s"* ]]
	[ "$(j nat-gw-aws --set fleet.rate=91/s --duration 120s | drops)" -eq 0 ]
	[ "$(j nat-gw-aws --set fleet.rate=92/s --duration 120s | jq .summary.gateway_drops.max_per_destination)" -gt 0 ]
	out=$(j nat-gw-aws)
	[ "$(echo "$out" | jq .summary.gateway_drops.max_per_destination)" -gt 0 ]
	[ "$(echo "$out" | jq .summary.connect_errors.ETIMEDOUT)" -gt 0 ]
	[ "$(echo "$out" | jq '.hosts[] | select(.name=="natgw") | .gateway.peak_ports_per_destination')" -eq 55000 ]
	[ "$(echo "$out" | jq '.hosts[] | select(.name=="natgw") | .counters.nat_port_exhausted')" -gt 0 ]
	# fixes: a second address, or a second destination
	for fix in natgw.ips=2 api.ips=2; do
		out=$(j nat-gw-aws --set "$fix")
		[ "$(echo "$out" | drops)" -eq 0 ]
		[ "$(echo "$out" | jq '[.summary.connect_errors[]] | add')" -eq 0 ]
	done
}

@test "sim cloudnat: Azure LB default allocation 512 ports per node; its fixes" {
	run "$TWKIT" sim nat-gw-azure-lb --explain -q --duration 20s
	[[ "$output" == *"512 ports per inside host"* ]]
	[[ "$output" == *"= 512 / (60.002 s + 0 s) = 8.53 new connections/s"* ]]
	out=$(j nat-gw-azure-lb)
	[ "$(echo "$out" | jq .summary.gateway_drops.ports_per_host)" -gt 0 ]
	[ "$(echo "$out" | jq .summary.syn_retrans)" -gt 0 ]
	[ "$(j nat-gw-azure-lb --set nodes.rate=8.5/s | drops)" -eq 0 ]
	[ "$(j nat-gw-azure-lb --set nodes.rate=8.6/s | drops)" -gt 0 ]
	for fix in lb.ips=2 lb.ports_per_host=640 lb.nodes=50; do
		[ "$(j nat-gw-azure-lb --set "$fix" | drops)" -eq 0 ]
	done
}

@test "sim cloudnat: the idle timeout cuts pooled connections; RST or silence by profile" {
	run "$TWKIT" sim nat-gw-idle --explain -q --duration 20s
	[[ "$output" == *"longer than the gateway's idle_timeout 240 s"* ]]
	out=$(j nat-gw-idle)
	cut=$(echo "$out" | jq .summary.gateway_drops.idle_timeout)
	[ "$cut" -gt 0 ]
	# every cut connection fails with the RST the gateway sends; none leaves a TIME-WAIT
	[ "$(echo "$out" | jq .summary.connect_errors.ECONNRESET)" -eq "$cut" ]
	[ "$(echo "$out" | jq '.hosts[] | select(.name=="app") | .time_wait_max')" -eq 0 ]
	# idle 4 min exactly is within the timeout; below it nothing is cut
	[ "$(j nat-gw-idle --set app.idle=4m | drops)" -eq 0 ]
	[ "$(j nat-gw-idle --set app.idle=3m | jq .summary.connect_errors.ECONNRESET)" -eq 0 ]
	# GCP drops silently: the next use times out instead
	out=$(j nat-gw-idle --set natgw.profile=gcp-cloud-nat --set natgw.idle_timeout=4m)
	[ "$(echo "$out" | jq .summary.connect_errors.ETIMEDOUT)" -gt 0 ]
	[ "$(echo "$out" | jq .summary.connect_errors.ECONNRESET)" -eq 0 ]
}

@test "sim cloudnat: text report names the gateway's drops; plain scenarios are unchanged" {
	run "$TWKIT" sim nat-gw-gcp -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"gateway cloud-nat (gcp-cloud-nat): "*" dropped (ports_per_host "* ]]
	out=$(j stress-client --duration 5s)
	[ "$(echo "$out" | jq '.summary | has("gateway_drops")')" = false ]
	[ "$(echo "$out" | jq '[.hosts[] | has("gateway")] | any')" = false ]
	run "$TWKIT" sim stress-client --duration 5s -q
	[[ "$output" != *"gateway"* ]]
}

@test "sim cloudnat: bad gateway keys and profiles: FILE:LINE, exit 2" {
	printf '[client c]\nvia = g\n[nat g]\nprofile = aws\nvia = s\n[server s]\n' > "$tmp/p.ini"
	run "$TWKIT" sim "$tmp/p.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"p.ini:4: [nat g] key 'profile': expected a gateway profile: aws-nat-gateway, gcp-cloud-nat, azure-nat-gateway or azure-lb-snat, got 'aws'"* ]]
	printf '[client c]\nvia = g\n[nat g]\nprofile = aws-nat-gateway\nips = 9\nvia = s\n[server s]\n' > "$tmp/i.ini"
	run "$TWKIT" sim "$tmp/i.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"i.ini:3: [g] key 'ips': aws-nat-gateway takes at most 8 addresses, got 9"* ]]
	printf '[client c]\nvia = g\ntcp_time_wait_timeout = 30s\n[nat g]\nvia = s\n[server s]\n' > "$tmp/k.ini"
	run "$TWKIT" sim "$tmp/k.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"k.ini:3: [client c] key 'tcp_time_wait_timeout' does not apply to a [client] section"* ]]
	printf '[client c]\nvia = g\n[nat g]\nmax_per_destination = 0\nvia = s\n[server s]\n' > "$tmp/m.ini"
	run "$TWKIT" sim "$tmp/m.ini"
	[ "$status" -eq 2 ]
	[[ "$output" == *"m.ini:4: [nat g] key 'max_per_destination': expected an integer 1-64512, got '0'"* ]]
	run "$TWKIT" sim nat-gw-gcp --set cloud-nat.profile=gcp
	[ "$status" -eq 2 ]
	[[ "$output" == *"--set [cloud-nat] key 'profile': expected a gateway profile"* ]]
	run "$TWKIT" sim nat-gw-gcp --set cloud-nat.mapping=random
	[ "$status" -eq 2 ]
	[[ "$output" == *"key 'mapping' does not apply to a cloud gateway"* ]]
}
