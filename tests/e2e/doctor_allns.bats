#!/usr/bin/env bats
# twkit doctor --all-netns, end to end: real TIME-WAIT made inside namespaces this test creates
# (ip netns add twk-allns-<pid>-*, and one held only by a process), each counted in its own
# namespace. teardown removes every namespace and process, also after a failure.

load lib/doctor

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	TMP=$(mktemp -d)
	NS_PREFIX="twk-allns-$$"
	HOLDER_PID=
	CHURN_PIDS=()
	CG_ROOT=
}

teardown() {
	local p
	for p in ${HOLDER_PID:-} "${CHURN_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# the test cgroups, deepest first, once the processes in them are gone
	if [ -n "${CG_ROOT:-}" ] && [ -d "$CG_ROOT" ]; then
		find "$CG_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	fi
	for n in a b c d e f; do
		ip netns del "$NS_PREFIX-$n" 2>/dev/null || true
	done
	rm -rf "$TMP"
}

# make_tw NS ADDR N: N client-closed connections to ADDR:8080 inside named namespace NS, then
# wait (bounded, 5 s) until the N TIME-WAIT are all there
make_tw() {
	ip netns exec "$1" bash -c "ip link set lo up && sysctl -qw net.ipv4.tcp_tw_reuse=0 &&
		'$CHURN' -a $2 -p 8080 -n $3 >/dev/null && $WAIT_TW $3"
}

# jq over one namespace of $TMP/all.json, chosen by its ip netns name
nsq() { jq -r --arg n "$1" ".namespaces[] | select(.ip_netns == \$n) | $2" "$TMP/all.json"; }

@test "doctor --all-netns: 300, 200 and 100 TIME-WAIT in three namespaces, each counted in its own" {
	for n in a b c; do ip netns add "$NS_PREFIX-$n"; done
	# different destinations per namespace, so a miscount cannot hide behind a shared name
	make_tw "$NS_PREFIX-a" 127.0.0.11 300
	make_tw "$NS_PREFIX-b" 127.0.0.12 200
	make_tw "$NS_PREFIX-c" 127.0.0.13 100
	run "$TWKIT" doctor --all-netns --json --top 0
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$TMP/all.json"
	[ "$(jq -r .schema "$TMP/all.json")" = twkit.doctor/1 ]
	# the top level is still a whole doctor report (of this namespace): added keys only
	for k in kernel settings counters sockets budget groups memory findings not_read; do
		jq -e "has(\"$k\")" "$TMP/all.json" >/dev/null
	done
	# each namespace exactly once, deduplicated, with its own count and destination
	for spec in a:127.0.0.11:300 b:127.0.0.12:200 c:127.0.0.13:100; do
		IFS=: read -r n addr want <<<"$spec"
		[ "$(jq --arg n "$NS_PREFIX-$n" '[.namespaces[] | select(.ip_netns == $n)] | length' \
			"$TMP/all.json")" -eq 1 ]
		[ "$(nsq "$NS_PREFIX-$n" .status)" = analysed ]
		[ "$(nsq "$NS_PREFIX-$n" .summary.time_wait)" -eq "$want" ]
		[ "$(nsq "$NS_PREFIX-$n" .report.sockets.time_wait)" -eq "$want" ]
		[ "$(nsq "$NS_PREFIX-$n" '.report.groups | length')" -eq 1 ]
		[ "$(nsq "$NS_PREFIX-$n" '.report.groups[0].remote')" = "$addr:8080" ]
		[ "$(nsq "$NS_PREFIX-$n" '.report.groups[0].time_wait')" -eq "$want" ]
		# its own sysctls: tcp_tw_reuse=0 was set inside it, whatever the host has
		[ "$(nsq "$NS_PREFIX-$n" .report.settings.tcp_tw_reuse)" -eq 0 ]
		[ "$(nsq "$NS_PREFIX-$n" .inode)" -eq "$(stat -L -c %i /run/netns/$NS_PREFIX-$n)" ]
	done
	# IPv6 sockets come from the same walk as IPv4 ones: 30 TIME-WAIT toward [::1]:8080
	ip netns add "$NS_PREFIX-d"
	ip netns exec "$NS_PREFIX-d" bash -c "ip link set lo up && python3 -c '
import socket
l = socket.socket(socket.AF_INET6); l.bind((\"::1\", 8080)); l.listen(64)
for _ in range(30):
    c = socket.create_connection((\"::1\", 8080)); a, _ = l.accept()
    c.close(); a.recv(1); a.close()
' && $WAIT_TW 30"
	run "$TWKIT" doctor --all-netns --json --top 0
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$TMP/all.json"
	[ "$(nsq "$NS_PREFIX-d" .summary.time_wait)" -eq 30 ]
	[ "$(nsq "$NS_PREFIX-d" '.report.groups[0].remote')" = "[::1]:8080" ]
	[ "$(nsq "$NS_PREFIX-a" .summary.time_wait)" -eq 300 ]
	# a namespace whose sockstat counts no TCP socket is not dumped, yet reported (its
	# sysctls read inside it); one holding a lone IPv6 listener is dumped
	ip netns add "$NS_PREFIX-e"
	ip netns exec "$NS_PREFIX-e" sysctl -qw net.ipv4.tcp_fin_timeout=17
	ip netns add "$NS_PREFIX-f"
	ip netns exec "$NS_PREFIX-f" bash -c "ip link set lo up && exec python3 -c '
import socket, subprocess, sys
l = socket.socket(socket.AF_INET6); l.bind((\"::1\", 7000)); l.listen()
sys.stdout.write(subprocess.run([\"$TWKIT\", \"doctor\", \"--all-netns\", \"--json\", \"--top\", \"0\"],
	stdout=subprocess.PIPE, check=True, text=True).stdout)
'" > "$TMP/all.json"
	[ "$(nsq "$NS_PREFIX-e" .status)" = analysed ]
	[ "$(nsq "$NS_PREFIX-e" .summary.sockets_total)" -eq 0 ]
	[ "$(nsq "$NS_PREFIX-e" .report.settings.tcp_fin_timeout)" -eq 17 ]
	[ "$(nsq "$NS_PREFIX-f" .report.sockets.by_state.LISTEN)" -eq 1 ]
	[ "$(nsq "$NS_PREFIX-f" .summary.sockets_total)" -eq 1 ]
	run "$TWKIT" doctor --all-netns --json --top 0
	printf '%s\n' "$output" > "$TMP/all.json"
	# busiest first
	order=$(jq -r --arg p "$NS_PREFIX-" '[.namespaces[].ip_netns | select(. != null) |
		select(startswith($p))] | join(" ")' "$TMP/all.json")
	[ "$order" = "$NS_PREFIX-a $NS_PREFIX-b $NS_PREFIX-c $NS_PREFIX-d $NS_PREFIX-e $NS_PREFIX-f" ] ||
		[ "$order" = "$NS_PREFIX-a $NS_PREFIX-b $NS_PREFIX-c $NS_PREFIX-d $NS_PREFIX-f $NS_PREFIX-e" ]
	[ "$(jq '.namespaces | length' "$TMP/all.json")" -eq "$(jq .namespaces_total "$TMP/all.json")" ]
	# no two entries are the same namespace
	[ "$(jq '[.namespaces[] | "\(.dev):\(.inode)"] | unique | length' "$TMP/all.json")" -eq \
		"$(jq '.namespaces | length' "$TMP/all.json")" ]

	# the human report: one line per namespace, then each in full
	run "$TWKIT" doctor --all-netns --top 0
	[ "$status" -eq 0 ]
	[[ "$output" == *"==== "*"$NS_PREFIX-a: inode "* ]]
	[[ "$output" == *"netns $NS_PREFIX-b"* ]]
	line=$(printf '%s\n' "$output" | grep -E "^[0-9]+ .*  $NS_PREFIX-c$")
	[[ "$line" =~ ^[0-9]+\ +100\ +100\  ]]

	# Prometheus: each namespace's families carry netns="NAME"; promtool accepts it
	run "$TWKIT" doctor --all-netns --prom --top 0
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$TMP/all.prom"
	if command -v promtool >/dev/null; then promtool check metrics < "$TMP/all.prom"; fi
	grep -qxF "twkit_time_wait_sockets{netns=\"$NS_PREFIX-a\",direction=\"outgoing\"} 300" "$TMP/all.prom"
	grep -qxF "twkit_time_wait_sockets{netns=\"$NS_PREFIX-b\",direction=\"outgoing\"} 200" "$TMP/all.prom"
	grep -qxF "twkit_time_wait_sockets{netns=\"$NS_PREFIX-c\",direction=\"outgoing\"} 100" "$TMP/all.prom"
	grep -q "^twkit_group_time_wait_sockets{netns=\"$NS_PREFIX-b\",.*remote_ip=\"127.0.0.12\".* 200$" "$TMP/all.prom"
	[ "$(grep -c '^# TYPE twkit_time_wait_sockets ' "$TMP/all.prom")" -eq 1 ]
	# (other namespaces of the host may come and go meanwhile: only ours are counted on)
	[ "$(sed -n 's/^twkit_network_namespaces{status="analysed"} //p' "$TMP/all.prom")" -ge 6 ]
	grep -q '^twkit_network_namespaces{status="gone"} [0-9]*$' "$TMP/all.prom"
	# --top 1: one namespace's samples only (bounded cardinality)
	run "$TWKIT" doctor --all-netns --prom --top 1
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -o 'netns="[^"]*"' | sort -u | wc -l)" -eq 1 ]

	# --top 1 details only the busiest namespace; the others keep their summary
	run "$TWKIT" doctor --all-netns --json --top 1
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$TMP/all.json"
	[ "$(jq .namespaces_detailed "$TMP/all.json")" -eq 1 ]
	[ "$(jq '[.namespaces[] | select(.report)] | length' "$TMP/all.json")" -eq 1 ]
	[ "$(jq '.namespaces[0].detailed' "$TMP/all.json")" = true ]
	[ "$(nsq "$NS_PREFIX-c" .summary.time_wait)" -eq 100 ]

	# --output FILE: the same report written atomically (a textfile collector's file)
	run "$TWKIT" doctor --all-netns --prom --top 0 --output "$TMP/tf.prom"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -qxF "twkit_time_wait_sockets{netns=\"$NS_PREFIX-c\",direction=\"outgoing\"} 100" "$TMP/tf.prom"
}

@test "doctor --all-netns: a namespace held only by a process is found and named by it" {
	# no /run/netns name: only the process keeps this namespace alive
	unshare -n bash -c "ip link set lo up && sysctl -qw net.ipv4.tcp_tw_reuse=0 &&
		'$CHURN' -a 127.0.0.21 -p 8080 -n 50 >/dev/null && $WAIT_TW 50 && exec sleep 60" &
	HOLDER_PID=$!
	for _ in $(seq 100); do
		[ "$(cat /proc/$HOLDER_PID/comm 2>/dev/null)" = sleep ] && break
		sleep 0.05
	done
	[ "$(cat /proc/$HOLDER_PID/comm)" = sleep ]
	ino=$(stat -L -c %i /proc/$HOLDER_PID/ns/net)
	[ "$ino" != "$(stat -L -c %i /proc/self/ns/net)" ]
	run "$TWKIT" doctor --all-netns --json --top 0
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$TMP/all.json"
	q() { jq -r --argjson i "$ino" ".namespaces[] | select(.inode == \$i) | $1" "$TMP/all.json"; }
	[ "$(q .ip_netns)" = null ]
	[ "$(q .pid)" -eq "$HOLDER_PID" ]
	[ "$(q .comm)" = sleep ]
	[ "$(q .name)" = "pid $HOLDER_PID (sleep)" ]
	[ "$(q .processes)" -ge 1 ]
	[ "$(q .summary.time_wait)" -eq 50 ]
	[ "$(q '.report.groups[0].remote')" = 127.0.0.21:8080 ]
	# the cgroup named is one of the holder's own
	cut -d: -f3- /proc/$HOLDER_PID/cgroup | grep -qxF -- "$(q .cgroup)"
}

@test "doctor --all-netns: namespaces appearing and vanishing meanwhile are skipped and counted" {
	# short-lived namespaces held by processes, started and ended while doctor runs (bounded:
	# 200 of them, 2 at a time, each living 10-50 ms)
	(
		for i in $(seq 200); do
			unshare -n sleep "0.0$((RANDOM % 4 + 1))" &
			unshare -n sleep "0.0$((RANDOM % 4 + 1))"
			wait
		done
	) &
	CHURN_PIDS+=($!)
	gone=0
	for r in $(seq 8); do
		run "$TWKIT" doctor --all-netns --json --top 3
		[ "$status" -eq 0 ]
		printf '%s\n' "$output" > "$TMP/all.json"
		t=$(jq .namespaces_total "$TMP/all.json")
		a=$(jq .namespaces_analysed "$TMP/all.json")
		g=$(jq .namespaces_gone "$TMP/all.json")
		f=$(jq .namespaces_failed "$TMP/all.json")
		[ "$((a + g + f))" -eq "$t" ]
		[ "$(jq '[.namespaces[] | select(.status == "gone")] | length' "$TMP/all.json")" -eq "$g" ]
		gone=$((gone + g))
	done
	echo "# namespaces gone while looked at, over 8 runs: $gone" >&3
}

@test "doctor --all-netns: without root exits 3 naming what is missing; bad combinations are usage errors" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TWKIT" doctor --all-netns
	[ "$status" -eq 3 ]
	[[ "$output" == *"--all-netns needs root"*"CAP_SYS_ADMIN"*"CAP_SYS_PTRACE"* ]]
	# root without CAP_SYS_PTRACE: named alone
	run setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace "$TWKIT" doctor --all-netns
	[ "$status" -eq 3 ]
	[[ "$output" == *"CAP_SYS_PTRACE missing"* ]]
	[[ "$output" != *"CAP_SYS_ADMIN"* ]]
	for bad in "--netns x" "--replay f" "--record f" "--watch 1" "--listen 127.0.0.1:9"; do
		run "$TWKIT" doctor --all-netns $bad
		[ "$status" -eq 2 ]
		[[ "$output" == *"--all-netns"* ]]
	done
	run "$TWKIT" doctor --help
	[[ "$output" == *"--all-netns"* ]]
}

@test "doctor --all-netns: a container's namespace is named by the container id and pod uid in its cgroup" {
	# real cgroups (v1 pids hierarchy, under a directory of this test's own) spelled as
	# kubelet's cgroupfs driver and docker's make them; a process holding a namespace in each
	[ -w /sys/fs/cgroup/pids ] || skip "no writable cgroup v1 pids hierarchy here"
	CG_ROOT=/sys/fs/cgroup/pids/twk-allns-$$
	local id1=1111111111111111111111111111111111111111111111111111111111111111
	local id2=2222222222222222222222222222222222222222222222222222222222222222
	local pod=5b0c1b9e-0a36-4c4e-9d6f-7e2a3b4c5d6e
	mkdir -p "$CG_ROOT/kubepods/burstable/pod$pod/$id1" "$CG_ROOT/docker/$id2"
	unshare -n sleep 60 &
	CHURN_PIDS+=($!)
	local p1=$!
	unshare -n sleep 60 &
	CHURN_PIDS+=($!)
	local p2=$!
	echo "$p1" > "$CG_ROOT/kubepods/burstable/pod$pod/$id1/cgroup.procs"
	echo "$p2" > "$CG_ROOT/docker/$id2/cgroup.procs"
	for _ in $(seq 100); do # unshare has exec'd sleep in its new namespace
		[ "$(cat /proc/$p1/comm)" = sleep ] && [ "$(cat /proc/$p2/comm)" = sleep ] && break
		sleep 0.05
	done
	run "$TWKIT" doctor --all-netns --json --top 0
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > "$TMP/all.json"
	q() { jq -r --argjson p "$1" ".namespaces[] | select(.pid == \$p) | $2" "$TMP/all.json"; }
	[ "$(q "$p1" .pod)" = "$pod" ]
	[ "$(q "$p1" .container.id)" = "$id1" ]
	[ "$(q "$p1" .container.runtime)" = null ] # the cgroupfs driver's path does not say
	[ "$(q "$p1" .cgroup)" = "/twk-allns-$$/kubepods/burstable/pod$pod/$id1" ]
	[ "$(q "$p1" .name)" = "pid $p1 (sleep) container:111111111111 pod $pod" ]
	[ "$(q "$p2" .container.runtime)" = docker ]
	[ "$(q "$p2" .container.id)" = "$id2" ]
	[ "$(q "$p2" .pod)" = null ]
	[ "$(q "$p2" .name)" = "pid $p2 (sleep) docker:222222222222" ]
	# the text report names them the same way
	run "$TWKIT" doctor --all-netns --top 0
	[[ "$output" == *"pid $p2 (sleep) docker:222222222222"* ]]
}
