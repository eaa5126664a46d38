#!/usr/bin/env bats
# Issue 18 on the real kernel, each test in a private network namespace (unshare -n: the
# namespace, its sysctls and its TIME-WAIT vanish with the test): --port-select app where
# connect()'s search fails, its failure counting, resources.sys_us_per_conn and the ceilings,
# and --calibrate's output. Assertions are on counts, never on wall time.

load lib/bench

RANGE="net.ipv4.ip_local_port_range=40000 40499" # 500 ports

setup() { bench_need_root; }
teardown() { bench_ns_cleanup; }

invariant() {
	[ "$(bj '.totals.attempted == .totals.completed + .totals.failed_total + .totals.in_flight')" = true ]
}

@test "bench app: tcp_tw_reuse=0, timestamps on: connect()'s search runs out, ports chosen by bench do not" {
	# 1,200 connections over 500 ports: the kernel's search finds every port in TIME-WAIT
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_timestamps=1 -- \
		"$TWKIT" bench --rate 300 --duration 4s --json -q
	[ "$status" -eq 0 ]
	[ "$(bj '.totals.failed.EADDRNOTAVAIL // 0')" -gt 0 ]
	[ "$(bj .config.port_select)" = kernel ]
	[ "$(bj .port_select.mode)" = kernel ]
	# the same load with bench's own ports: each TIME-WAIT is taken over (§2.3 bound-port path)
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_timestamps=1 -- \
		"$TWKIT" bench --rate 300 --duration 4s --json -q --port-select app
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj .config.port_select)" = app ]
	[ "$(bj .totals.failed_total)" -eq 0 ]
	[ "$(bj .totals.completed)" -gt 900 ]
	[ "$(bj .port_select.range_lo)" -eq 40000 ]
	[ "$(bj .port_select.range_hi)" -eq 40499 ]
	[ "$(bj .port_select.bind_failed_total)" -eq 0 ]
	[ "$(bj .port_select.connect_failed_total)" -eq 0 ]
	[ "$(bj .port_select.gave_up)" -eq 0 ]
	# every port of the range was used, and the range wrapped: more connections than ports
	[ "$(bj .totals.source_ports)" -eq 500 ]
	[ "$(bj .budget.usable_ports)" -eq 500 ]
	[ "$(bj .budget.sustained_rate)" = 0 ]
	bj .budget.interpretation | grep -q 'even with tcp_tw_reuse=0'
	bj .budget.interpretation | grep -q 'SO_REUSEADDR'
}

@test "bench app: without timestamps nothing is taken over: each refused port is counted, connections give up after 64" {
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_timestamps=0 -- \
		"$TWKIT" bench --rate 300 --duration 3s --json -q --port-select app
	[ "$status" -eq 0 ]
	invariant
	gave=$(bj .port_select.gave_up)
	[ "$gave" -gt 0 ]
	# a connection that gave up tried 64 ports, each refused by connect() (the exact 4-tuple
	# is in TIME-WAIT), and failed with the last errno
	[ "$(bj .port_select.tries_max)" -eq 64 ]
	[ "$(bj .port_select.connect_failed.EADDRNOTAVAIL)" -eq $((gave * 64)) ]
	[ "$(bj .port_select.connect_failed_total)" -eq $((gave * 64)) ]
	[ "$(bj .totals.failed.EADDRNOTAVAIL)" -eq "$gave" ]
	[ "$(bj .totals.failed_total)" -eq "$gave" ]
	# the first pass over the range worked
	[ "$(bj .totals.completed)" -ge 490 ]
	[ "$(bj .totals.completed)" -le 500 ]
	bj .budget.interpretation | grep -q 'never taken over'
}

@test "bench app: a port held by a socket without SO_REUSEADDR is refused by bind(), counted and stepped over" {
	# a kernel-search run first leaves 100 TIME-WAITs without SO_REUSEADDR in the range
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 -- bash -c '
		"$1" bench --count 100 -q >/dev/null &&
		"$1" bench --count 300 --json -q --port-select app' bash "$TWKIT"
	[ "$status" -eq 0 ]
	invariant
	[ "$(bj .totals.completed)" -eq 300 ]
	[ "$(bj .totals.failed_total)" -eq 0 ]
	busy=$(bj '.port_select.bind_failed.EADDRINUSE // 0')
	[ "$busy" -gt 0 ]
	[ "$busy" -le 100 ]
	[ "$(bj .port_select.bind_failed_total)" -eq "$busy" ]
	[ "$(bj .port_select.connect_failed_total)" -eq 0 ]
	[ "$(bj .port_select.gave_up)" -eq 0 ]
	# the human report says the same
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=0 -- bash -c '
		"$1" bench --count 100 -q >/dev/null &&
		"$1" bench --count 300 -q --port-select app' bash "$TWKIT"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq 'port-select  app over 40000-40499: [1-9][0-9]* ports refused by bind\(\), 0 by connect\(\), EADDRINUSE [1-9]'
}

@test "bench: resources.sys_us_per_conn is the process's kernel time per connection attempted, with both ceilings" {
	run bench_in_ns -- "$TWKIT" bench --count 3000 --json -q
	[ "$status" -eq 0 ]
	[ "$(bj .totals.attempted)" -eq 3000 ]
	[ "$(bj .resources.per_conn)" = attempted ]
	[ "$(bj '.resources.sys_us_per_conn > 0')" = true ]
	# the same number as sys_s over the connections (within the JSON's rounding)
	[ "$(bj '((.resources.sys_us_per_conn * .totals.attempted / 1e6) - .resources.sys_s) | fabs < 0.002')" = true ]
	[ "$(bj '((.resources.user_us_per_conn * .totals.attempted / 1e6) - .resources.user_s) | fabs < 0.002')" = true ]
	[ "$(bj '.budget.ceilings.cpu_rate > 0')" = true ]
	[ "$(bj '.budget.ceilings.cpu_rate - .budget.ceilings.cpu_per_core_rate * .budget.ceilings.cores | fabs < 1')" = true ]
	[ "$(bj '.budget.ceilings.ports_rate == .budget.sustained_rate')" = true ]
	binds=$(bj .budget.ceilings.binds)
	if [ "$(bj '.budget.ceilings.ports_rate <= .budget.ceilings.cpu_rate')" = true ]; then
		[ "$binds" = ports ]
	else
		[ "$binds" = cpu ]
	fi
	bj .budget.ceilings.explanation | grep -q 'of kernel time per connection attempted'
	# the human report: the per-connection line and the ceilings sentence
	run bench_in_ns -- "$TWKIT" bench --count 1000 -q
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq 'per connection attempted [0-9.]+ us system, [0-9.]+ us user'
	printf '%s\n' "$output" | grep -Eq '^ceilings: ports .*; CPU .* binds? first; measured'
}

@test "bench: --matrix builtin has the app-ports row" {
	run bench_in_ns -- "$TWKIT" bench --matrix builtin --count 200 --json -q
	[ "$status" -eq 0 ]
	[ "$(bj '[.variants[].config.name] | index("app-ports") != null')" = true ]
	[ "$(bj '.variants[] | select(.config.name == "app-ports") | .config.port_select')" = app ]
	[ "$(bj '.variants[] | select(.config.name == "app-ports") | .totals.completed')" -eq 200 ]
}

@test "bench --calibrate: points, the price per port, the sim's settings" {
	reuse_before=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)
	range_before=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	run "$TWKIT" bench --calibrate --json
	[ "$status" -eq 0 ]
	[ "$(bj .schema)" = twkit.bench.calibrate/1 ]
	[ "$(bj '[.points[].ports] | join(",")')" = "2,16,64,256,8192,16384,28232" ]
	[ "$(bj '[.points[] | select(.connects > 0 and .sys_ns_per_connect > 0)] | length')" -eq 7 ]
	# each failing connect() examines the whole range: it costs more the larger the range
	[ "$(bj '.points | (.[6].sys_ns_per_connect > .[4].sys_ns_per_connect) and (.[4].sys_ns_per_connect > .[1].sys_ns_per_connect)')" = true ]
	[ "$(bj '.probe_ns > 0')" = true ]
	[ "$(bj '.r2 > 0 and .r2 <= 1')" = true ]
	[ "$(bj .method.tcp_tw_reuse)" -eq 0 ]
	[ "$(bj .method.time_wait_filled)" -eq 28232 ]
	[ "$(bj .connections)" -eq 4500 ]
	[ "$(bj '.connection_sys_ns > 0')" = true ]
	[ "$(bj .sim.connect_probe_ns)" -eq "$(bj '.probe_ns | round')" ]
	bj .sim.args | grep -Eq '^--set connect_probe_ns=[0-9]+ --set connect_base_ns=[0-9]+$'
	# the line to paste carries the same numbers as the keys, whole
	[ "$(bj .sim.args)" = "--set connect_probe_ns=$(bj .sim.connect_probe_ns) --set connect_base_ns=$(bj .sim.connect_base_ns)" ]
	[ "$(bj '(.sim.connect_base_ns - (.connection_sys_ns - .sim.connect_probe_ns)) | fabs <= 1')" = true ]
	# this namespace is untouched: its sysctls as they were, none of the TIME-WAIT here
	[ "$(cat /proc/sys/net/ipv4/tcp_tw_reuse)" = "$reuse_before" ]
	[ "$(cat /proc/sys/net/ipv4/ip_local_port_range)" = "$range_before" ]
	[ "$(ss -Htan state time-wait '( dport = :20000 )' | wc -l)" -eq 0 ]
}

@test "bench --calibrate: the human report ends with the sim setting" {
	run "$TWKIT" bench --calibrate -q
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -q '^  per port examined '
	printf '%s\n' "$output" | tail -1 | grep -Eq '^sim setting: --set connect_probe_ns=[0-9]+ --set connect_base_ns=[0-9]+$'
	printf '%s\n' "$output" | grep -Eq '^doctor setting: --connect-probe-ns [0-9]+ --connect-base-ns [0-9]+$'
}

@test "bench --calibrate: refused without root (exit 3), and with serve (exit 2)" {
	command -v setpriv >/dev/null || skip "needs setpriv"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TWKIT" bench --calibrate
	[ "$status" -eq 3 ]
	[[ "$output" == *"needs root"* ]]
	run "$TWKIT" bench serve --calibrate
	[ "$status" -eq 2 ]
	run "$TWKIT" bench --port-select maybe
	[ "$status" -eq 2 ]
	[[ "$output" == *"expected kernel or app"* ]]
}

# What --port-select app rests on, one TIME-WAIT at a time (docs/kernel-tw-spec-notes.md §2.3):
# prints, per case, "ok" + TWRecycled's rise, or where it failed and the errno name.
bound_probe() {
	cat >"$BATS_TEST_TMPDIR/p.py" <<'PY'
import errno, socket, sys, time
old_reuse, new_reuse, close_server = (a == "1" for a in sys.argv[1:4])
def recycled():
    ls = [l.split() for l in open("/proc/net/netstat").read().split("\n") if l]
    return int(ls[1][ls[0].index("TWRecycled")])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 8080)); s.listen(8)
c = socket.socket()
if old_reuse: c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("127.0.0.1", 40000)); c.connect(("127.0.0.1", 8080)); a, _ = s.accept()
c.close()
if close_server:
    a.recv(1); a.close()
time.sleep(0.05)
before = recycled()
d = socket.socket()
if new_reuse: d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    d.bind(("127.0.0.1", 40000))
except OSError as e:
    print("bind", errno.errorcode[e.errno]); sys.exit(0)
try:
    d.connect(("127.0.0.1", 8080)); print("ok", recycled() - before)
except OSError as e:
    print("connect", errno.errorcode[e.errno])
PY
	bench_in_ns "$@" -- python3 "$BATS_TEST_TMPDIR/p.py" $PROBE_ARGS
}

@test "bench app kernel: bind() of a TIME-WAIT's port needs SO_REUSEADDR on both sockets; a FIN_WAIT2-substate one is taken over too (§2.3)" {
	command -v python3 >/dev/null || skip "needs python3"
	PROBE_ARGS="1 1 1" run bound_probe net.ipv4.tcp_tw_reuse=0
	[ "$output" = "ok 1" ]
	PROBE_ARGS="1 0 1" run bound_probe net.ipv4.tcp_tw_reuse=0
	[ "$output" = "bind EADDRINUSE" ]
	PROBE_ARGS="0 1 1" run bound_probe net.ipv4.tcp_tw_reuse=0
	[ "$output" = "bind EADDRINUSE" ]
	PROBE_ARGS="1 1 1" run bound_probe net.ipv4.tcp_tw_reuse=2 net.ipv4.tcp_timestamps=0
	[ "$output" = "connect EADDRNOTAVAIL" ]
	# the server has not closed: the client's socket is a FIN_WAIT2-substate TIME-WAIT, which
	# the search's reuse never takes on 6.12+ (§2.2); a bound port does
	PROBE_ARGS="1 1 0" run bound_probe net.ipv4.tcp_tw_reuse=0
	[ "$output" = "ok 1" ]
}

@test "bench app kernel: ports bench bound are skipped by connect()'s search while held (bind()-made buckets, §3.2)" {
	# tcp_tw_reuse=2 on loopback would take over a TIME-WAIT older than 1 s, but not on a
	# port whose bind bucket bind() made: every connect() of the kernel's search then fails
	run bench_in_ns "$RANGE" net.ipv4.tcp_tw_reuse=2 -- bash -c '
		"$1" bench --count 500 -q --port-select app --json | jq -c "[.totals.completed, .totals.failed_total]"
		sleep 1.5
		"$1" bench --count 50 -q --json 2>/dev/null | jq -c "[.totals.completed, .totals.failed.EADDRNOTAVAIL]"
		"$1" bench --count 50 -q --json --port-select app | jq -c "[.totals.completed, .totals.failed_total]"
		exit 0' bash "$TWKIT"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[500,0]" ]
	[ "${lines[1]}" = "[0,50]" ]
	[ "${lines[2]}" = "[50,0]" ]
}
