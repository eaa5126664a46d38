#!/usr/bin/env bats
# twkit and Prometheus: the exposition passes promtool, the shipped rules pass their unit
# tests, the rules and dashboard name only metrics twkit exports, --listen cannot be starved
# and serves unprivileged, the systemd units verify. Sockets in private network namespaces.

load lib/doctor
load lib/prom

setup() {
	TMP=$(mktemp -d)
	command -v promtool >/dev/null || skip "promtool not installed (Debian package prometheus; make deps)"
}

teardown() {
	rm -rf "$TMP"
}

@test "prom: doctor --prom passes promtool check metrics, live, from a capture and over --listen" {
	in_ns "sysctl -qw net.ipv4.tcp_tw_reuse=0; '$CHURN' -p 8080 -n 300 >/dev/null; $WAIT_TW 300
	       '$TWKIT' doctor --prom --record '$TMP/cap' > '$TMP/live.prom'
	       '$TWKIT' doctor --listen 127.0.0.1:9798 2>/dev/null & p=\$!
	       trap 'kill \$p 2>/dev/null; wait \$p' EXIT
	       for _ in \$(seq 50); do curl -sf -o '$TMP/listen.prom' http://127.0.0.1:9798/metrics && break; sleep 0.1; done"
	"$TWKIT" doctor --prom --replay "$TMP/cap" > "$TMP/replay.prom"
	for f in live listen replay; do
		run bash -c "promtool check metrics < '$TMP/$f.prom'"
		echo "$f: $output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
	# and promtool does refuse what the old exposition did
	printf '# HELP twkit_kernel_counter x\n# TYPE twkit_kernel_counter counter\ntwkit_kernel_counter{name="TcpExt.TW"} 1\n' > "$TMP/old.prom"
	run bash -c "promtool check metrics < '$TMP/old.prom'"
	[ "$status" -ne 0 ]
	[[ "$output" == *'should have "_total" suffix'* ]]
	# what the 300 TIME-WAIT look like, with one meaning per label
	grep -qx 'twkit_group_time_wait_sockets{direction="outgoing",local_ip="127.0.0.1",remote_ip="127.0.0.1",remote_port="8080"} 300' "$TMP/live.prom"
	grep -qx 'twkit_time_wait_sockets{direction="outgoing"} 300' "$TMP/live.prom"
	version=$("$TWKIT" --version | cut -d' ' -f2)
	grep -qx "twkit_build_info{version=\"$version\"} 1" "$TMP/live.prom"
	grep -Eq '^twkit_scrape_duration_seconds [0-9]+\.[0-9]+$' "$TMP/listen.prom"
	# counters end in _total and only they do; the kernel's gauges are gauges
	awk '$2 == "TYPE" && (($4 == "counter") != ($3 ~ /_total$/)) { print; bad = 1 } END { exit bad }' "$TMP/live.prom"
	grep -qx '# TYPE twkit_kernel_tcp_currestab gauge' "$TMP/live.prom"
	grep -qx '# TYPE twkit_kernel_sockstat_tcp_tw gauge' "$TMP/live.prom"
	n=$(sed -n 's/^twkit_kernel_tcp_activeopens_total //p' "$TMP/live.prom")
	[ "$n" -ge 300 ]
	# the golden file of the unit tests too
	promtool check metrics < "$TWKIT_TOP/tests/data/doctor.prom"
}

@test "prom: every family doctor exports is documented in docs/prometheus.md" {
	in_ns "'$TWKIT' doctor --prom" > "$TMP/live.prom"
	n=0
	while read -r name; do
		n=$((n + 1))
		grep -qF "\`$name\`" "$TWKIT_TOP/docs/prometheus.md" || { echo "undocumented: $name"; false; }
	done < <(awk '$2 == "TYPE" { print $3 }' "$TMP/live.prom")
	[ "$n" -ge 40 ]
}

@test "prom: the shipped rules pass promtool check rules and their unit tests, which fail on a broken rule" {
	run promtool check rules "$TWKIT_TOP/contrib/prometheus/twkit.rules.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SUCCESS: 12 rules found"* ]]
	run bash -c "cd '$TWKIT_TOP/contrib/prometheus/tests' && promtool test rules *.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *SUCCESS* ]]
	# the tests bite: a forecast threshold of 1 minute instead of 10 misses the alert
	mkdir -p "$TMP/rules/tests"
	sed 's/< 600$/< 60/' "$TWKIT_TOP/contrib/prometheus/twkit.rules.yml" > "$TMP/rules/twkit.rules.yml"
	! cmp -s "$TMP/rules/twkit.rules.yml" "$TWKIT_TOP/contrib/prometheus/twkit.rules.yml"
	cp "$TWKIT_TOP"/contrib/prometheus/tests/*.yml "$TMP/rules/tests/"
	run bash -c "cd '$TMP/rules/tests' && promtool test rules *.yml"
	[ "$status" -ne 0 ]
	[[ "$output" == *"TwkitPortBudgetExhaustionSoon"* ]]
}

@test "prom: every metric the rules and the dashboard name is one twkit exports (doctor's output, trace's documented names, recorded rules)" {
	in_ns "sysctl -qw net.ipv4.tcp_tw_reuse=0; '$CHURN' -p 8080 -n 50 >/dev/null; $WAIT_TW 50
	       '$TWKIT' doctor --prom" > "$TMP/live.prom"
	rules="$TWKIT_TOP/contrib/prometheus/twkit.rules.yml"
	dash="$TWKIT_TOP/contrib/grafana/twkit.json"
	{
		prom_exposed_names < "$TMP/live.prom"
		prom_trace_types "$TWKIT_TOP/docs/prometheus.md" | prom_exposed_names
		prom_recorded_names "$rules"
	} | sort -u > "$TMP/known"
	# trace's six families (the histogram as its three series) are among them
	[ "$(grep -c '^twkit_trace_' "$TMP/known")" -eq 9 ]
	grep -qx twkit_trace_time_waits_total "$TMP/known"
	grep -qx twkit_trace_connect_latency_seconds_bucket "$TMP/known"
	promql_exprs_rules "$rules" > "$TMP/rules.exprs"
	promql_exprs_dashboard "$dash" > "$TMP/dash.exprs"
	[ "$(wc -l < "$TMP/rules.exprs")" -eq 12 ]
	[ "$(wc -l < "$TMP/dash.exprs")" -ge 15 ]
	promql_metric_names < "$TMP/rules.exprs" > "$TMP/rules.names"
	promql_metric_names < "$TMP/dash.exprs" > "$TMP/dash.names"
	[ "$(wc -l < "$TMP/rules.names")" -ge 9 ]
	[ "$(wc -l < "$TMP/dash.names")" -ge 15 ]
	run comm -23 "$TMP/rules.names" "$TMP/known"
	echo "rules name what twkit does not export: $output"
	[ -z "$output" ]
	run comm -23 "$TMP/dash.names" "$TMP/known"
	echo "the dashboard names what twkit does not export: $output"
	[ -z "$output" ]
	# the connect() failures alert uses trace's counter
	grep -qx twkit_trace_connect_failures_total "$TMP/rules.names"
	# the check can fail: an unknown name, and a name renamed away, are caught
	printf '%s\n' 'sum by (instance) (rate(twkit_nonexistent_total{a="b"}[5m])) > 0' \
		'twkit_group_utilization{direction="outgoing"}' | promql_metric_names > "$TMP/bad"
	[ "$(comm -23 "$TMP/bad" "$TMP/known" | wc -l)" -eq 2 ]
}

@test "prom: --listen answers a scrape while 100 idle and 5 slow connections are held; the slow ones are cut at their deadline; keep-alive works" {
	in_ns "'$TWKIT' doctor --listen 127.0.0.1:9798 2>'$TMP/err' & p=\$!
	       trap 'kill \$p 2>/dev/null; wait \$p' EXIT
	       for _ in \$(seq 50); do curl -sf -o /dev/null http://127.0.0.1:9798/metrics && break; sleep 0.1; done
	       for i in \$(seq 100); do exec {fd}<>/dev/tcp/127.0.0.1/9798 || exit 1; done
	       for i in \$(seq 5); do
		 ( trap '' PIPE; exec 3<>/dev/tcp/127.0.0.1/9798
		   if [ \$i = 5 ]; then # the last one drips a body
		     printf 'POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n' >&3
		   else
		     printf 'GET /metrics HTTP/1.1\r\n' >&3
		   fi
		   for j in \$(seq 40); do
		     printf 'X' >&3 2>/dev/null || { echo cut >> '$TMP/drip'; exit; }
		     sleep 0.5
		   done; echo 'not cut' >> '$TMP/drip' ) &
	       done
	       sleep 0.5
	       ss -Htn state established '( dport = :9798 )' | wc -l > '$TMP/held'
	       curl -s --max-time 5 -o '$TMP/m' -w '%{http_code} %{time_total}\n' http://127.0.0.1:9798/metrics > '$TMP/scrape'
	       wait \$(jobs -p | grep -vx \$p)
	       # kept alive: four requests 2.5 s apart on one connection, the last 7.5 s after it
	       # opened; each answer gives the next request a deadline of its own
	       exec 5<>/dev/tcp/127.0.0.1/9798
	       for i in 1 2 3 4; do
		 printf 'GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n' >&5
		 IFS= read -r -t 5 line <&5 || break
		 len=0
		 while IFS= read -r -t 5 h <&5; do
		   h=\${h%\$'\r'}; [ -z \"\$h\" ] && break
		   case \"\${h,,}\" in content-length:*) len=\${h#*:}; len=\${len// /} ;; esac
		 done
		 LC_ALL=C read -r -N \"\$len\" -t 5 body <&5 || break
		 echo \"\${line%\$'\r'} \${#body}\" >> '$TMP/keep'
		 sleep 2.5
	       done
	       exec 5>&-
	       kill \$p; wait \$p; echo \$? > '$TMP/rc'; trap - EXIT"
	held=$(cat "$TMP/held")
	read -r code secs < "$TMP/scrape"
	echo "# held $held connections; the scrape answered $code in ${secs}s" >&3
	[ "$held" -ge 105 ]
	[ "$code" = 200 ]
	grep -q '^twkit_build_info' "$TMP/m"
	promtool check metrics < "$TMP/m"
	# each dripping connection was shut down before its 20 s of drip were over
	[ "$(grep -c '^cut$' "$TMP/drip")" -eq 5 ]
	grep -Eq 'stopped; ([5-9]|[1-9][0-9]+) connections were closed for not sending their request in time' "$TMP/err"
	[ "$(cat "$TMP/rc")" -eq 0 ]
	cat "$TMP/keep"
	[ "$(grep -c '^HTTP/1.1 200 OK [1-9][0-9]*$' "$TMP/keep")" -eq 4 ]
}

@test "prom: --listen started as root serves as nobody with no capability (--replay: CAP_DAC_READ_SEARCH only)" {
	status_of() { # ARGS...: start a server, print its /proc status lines once it serves
		echo "'$TWKIT' doctor --listen 127.0.0.1:9798 $* 2>'$TMP/err' & p=\$!
		      trap 'kill \$p 2>/dev/null; wait \$p' EXIT
		      for _ in \$(seq 50); do curl -sf -o '$TMP/m' http://127.0.0.1:9798/metrics && break; sleep 0.1; done
		      grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs):' /proc/\$p/status"
	}
	run in_ns "$(status_of)"
	echo "$output"
	[ "$status" -eq 0 ]
	nobody=$(id -u nobody)
	[[ "$output" == *"Uid:"$'\t'"$nobody"$'\t'"$nobody"$'\t'"$nobody"$'\t'"$nobody"* ]]
	[[ "$output" == *"CapEff:"$'\t'"0000000000000000"* ]]
	[[ "$output" == *"CapPrm:"$'\t'"0000000000000000"* ]]
	[[ "$output" == *"CapBnd:"$'\t'"0000000000000000"* ]]
	[[ "$output" == *"NoNewPrivs:"$'\t'"1"* ]]
	grep -q "as uid $nobody" "$TMP/err"
	# it still sees the sockets: a live look needs no privilege
	grep -q '^twkit_tcp_sockets{state="ESTAB"}' "$TMP/m"
	grep -q '^twkit_kernel_tcp_activeopens_total ' "$TMP/m"
	# a capture made mode 0600 by root: read with CAP_DAC_READ_SEARCH (bit 2) and nothing else
	in_ns "'$TWKIT' doctor --record '$TMP/cap' >/dev/null"
	run in_ns "$(status_of --replay "$TMP/cap")"
	echo "$output"
	[[ "$output" == *"Uid:"$'\t'"$nobody"* ]]
	[[ "$output" == *"CapEff:"$'\t'"0000000000000004"* ]]
	[[ "$output" == *"CapBnd:"$'\t'"0000000000000004"* ]]
	grep -q '^twkit_tcp_sockets' "$TMP/m"
	# --user picks the user; root stays root only when asked
	run in_ns "$(status_of --user daemon)"
	[[ "$output" == *"Uid:"$'\t'"$(id -u daemon)"* ]]
	run in_ns "$(status_of --user root)"
	[[ "$output" == *"Uid:"$'\t'"0"$'\t'* ]]
	# errors
	run "$TWKIT" doctor --listen 127.0.0.1:9798 --user "twk-no-such-user-$$"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--user twk-no-such-user-$$: no user"* ]]
	run "$TWKIT" doctor --prom --user nobody
	[ "$status" -eq 2 ]
	[[ "$output" == *"--user goes with --listen"* ]]
	command -v setpriv >/dev/null || skip "setpriv not installed"
	run in_ns "setpriv --reuid=$nobody --regid=$nobody --clear-groups '$TWKIT' doctor --listen 127.0.0.1:9798 --user daemon"
	[ "$status" -eq 3 ]
	[[ "$output" == *"only a process started as root changes user"* ]]
}

@test "prom: --output writes the report atomically, replacing a symlink instead of following it" {
	echo keep > "$TMP/victim"
	ln -s "$TMP/victim" "$TMP/twkit.prom"
	in_ns "umask 022; '$TWKIT' doctor --prom --output '$TMP/twkit.prom'"
	[ "$(cat "$TMP/victim")" = keep ]
	[ ! -L "$TMP/twkit.prom" ]
	[ "$(stat -c %a "$TMP/twkit.prom")" = 644 ]
	promtool check metrics < "$TMP/twkit.prom"
	[ "$(ls -A "$TMP" | sort | tr '\n' ' ')" = "twkit.prom victim " ] # no temporary file left
	# a bad path is a usage error found before collecting (issue 21 §4)
	run "$TWKIT" doctor --prom --output "$TMP/nodir/x.prom"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--output '$TMP/nodir/x.prom': directory $TMP/nodir: does not exist"* ]]
	run "$TWKIT" doctor --listen 127.0.0.1:9798 --output "$TMP/x"
	[ "$status" -eq 2 ]
}

@test "prom: the systemd units verify, are sandboxed, and the textfile service's command writes a file promtool accepts" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed"
	mkdir -p "$TMP/units" "$TMP/textfile"
	for f in "$TWKIT_TOP"/contrib/systemd/*; do
		sed "s#/usr/local/bin/twkit#$TWKIT#g" "$f" > "$TMP/units/$(basename "$f")"
	done
	run bash -c "cd '$TMP/units' && systemd-analyze verify --man=no ./twkit-doctor.service ./twkit-textfile.service ./twkit-textfile.timer"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'CapabilityBoundingSet=' "$TMP/units/twkit-doctor.service"
	grep -qx 'NoNewPrivileges=yes' "$TMP/units/twkit-doctor.service"
	grep -qx 'ProtectSystem=strict' "$TMP/units/twkit-doctor.service"
	if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
		for u in twkit-doctor twkit-textfile; do
			run bash -c "cd '$TMP/units' && systemd-analyze security --offline=true ./$u.service"
			level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$output")
			echo "# $u.service: systemd-analyze security exposure $level" >&3
			awk -v l="$level" 'BEGIN { exit !(l != "" && l <= 2.0) }'
		done
	fi
	# the service's own command line, run here toward a private directory
	cmd=$(sed -n 's/^ExecStart=//p' "$TMP/units/twkit-textfile.service")
	dir=$(sed -n 's/^ReadWritePaths=//p' "$TMP/units/twkit-textfile.service")
	[[ "$cmd" == *"--output $dir/twkit.prom"* ]]
	cmd=${cmd//$dir/$TMP/textfile}
	in_ns "umask 022; $cmd"
	promtool check metrics < "$TMP/textfile/twkit.prom"
	[ "$(ls -A "$TMP/textfile")" = twkit.prom ]
}
