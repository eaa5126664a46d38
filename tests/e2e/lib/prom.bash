# Helpers for the Prometheus end-to-end tests: metric names out of an exposition, out of the
# documented trace families, and out of PromQL expressions (rules, dashboard).

# Family and sample names of the exposition on stdin, one a line (a histogram's family also
# gives its _bucket, _sum and _count series).
prom_exposed_names() {
	awk '$1 == "#" && $2 == "TYPE" {
		print $3
		if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" }
		if ($4 == "summary") { print $3 "_sum"; print $3 "_count" }
		next
	}
	/^[a-zA-Z_:]/ { n = $1; sub(/\{.*/, "", n); print n }' | sort -u
}

# The families docs/prometheus.md documents for `twkit trace --prom`, as exposition TYPE lines
# (so that prom_exposed_names expands histograms).
prom_trace_types() {
	awk '/^## Families of `twkit trace --prom`/ { on = 1; next }
	     /^## / { on = 0 }
	     on && /^\| `twkit_trace_/ {
		split($0, c, "|"); name = c[2]; type = c[3]
		gsub(/[ `]/, "", name); gsub(/ /, "", type)
		print "# TYPE " name " " type
	     }' "$1"
}

# The PromQL expressions of a rules file, one a line: `expr: X` or an `expr: |` block.
promql_exprs_rules() {
	awk 'function flush() { if (buf != "") print buf; buf = ""; inblk = 0 }
	inblk {
		match($0, /^ */)
		if (RLENGTH > ind || $0 ~ /^ *$/) { buf = buf " " $0; next }
		flush()
	}
	/^ *(- )?expr: *[|>]-? *$/ { match($0, /^ */); ind = RLENGTH; inblk = 1; buf = ""; next }
	/^ *(- )?expr: / { e = $0; sub(/^ *(- )?expr: */, "", e); print e }
	END { flush() }' "$1"
}

# The PromQL expressions of a Grafana dashboard (panels' targets and query variables).
promql_exprs_dashboard() {
	jq -r '(.. | objects | select(has("expr")) | .expr),
	       (.templating.list[]? | select(.type == "query") | (.query.query? // .query)
		| sub("label_values\\((?<m>[^,)]*)(,[^)]*)?\\)"; "\(.m)"))' "$1"
}

# Metric names used by the PromQL expressions on stdin, one a line: strings, label matchers,
# ranges, grouping label lists, Grafana variables, functions, keywords and numbers removed.
promql_metric_names() {
	awk '{
		e = $0
		gsub(/\$\{[^}]*\}|\$[A-Za-z_]+/, " ", e)        # Grafana variables
		gsub(/"[^"]*"|\047[^\047]*\047/, " ", e)         # strings
		gsub(/\{[^}]*\}/, " ", e)                        # label matchers
		gsub(/\[[^]]*\]/, " ", e)                        # ranges
		e = " " e
		gsub(/[^A-Za-z0-9_:](by|without|on|ignoring|group_left|group_right)[ \t]*\([^)]*\)/, " ", e)
		while (length(e) > 0) {
			c = substr(e, 1, 1)
			if (c ~ /[0-9.]/) {                      # a number or a duration
				match(e, /^[0-9.][0-9A-Za-z.]*/); e = substr(e, RLENGTH + 1); continue
			}
			if (c ~ /[A-Za-z_:]/) {
				match(e, /^[A-Za-z_:][A-Za-z0-9_:]*/)
				w = substr(e, 1, RLENGTH); e = substr(e, RLENGTH + 1)
				rest = e; sub(/^[ \t]*/, "", rest)
				if (substr(rest, 1, 1) == "(") continue  # a function or aggregation
				if (w ~ /^(and|or|unless|offset|bool|inf|nan|Inf|NaN)$/) continue
				print w
				continue
			}
			e = substr(e, 2)
		}
	}' | sort -u
}

# Names a rules file records (`record: NAME`).
prom_recorded_names() {
	sed -n 's/^ *- record: *//p' "$1" | sort -u
}
