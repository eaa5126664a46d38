/*
 * render — text, JSON and Prometheus renderers (see render.h).
 */
#include "doctor/render.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "common/jsonw.h"
#include "common/units.h"
#include "kernel/sockdiag.h"

const char *const doc_counter_names[] = {
	"TcpExt.TW",	      "TcpExt.TWKilled",	   "TcpExt.TWRecycled",
	"TcpExt.PAWSActive",   "TcpExt.PAWSEstab",	   "TcpExt.PAWSPassive",
	"TcpExt.PAWSTimewait", "TcpExt.TCPTimeWaitOverflow", "TcpExt.TCPAbortOnClose",
	"TcpExt.TCPAbortOnData", "Tcp.ActiveOpens",	   "Tcp.PassiveOpens",
	"Tcp.AttemptFails",    "Tcp.EstabResets",	   "Tcp.OutRsts",
	"Tcp.CurrEstab",       "sockstat.TCP.inuse",	   "sockstat.TCP.orphan",
	"sockstat.TCP.tw",     "sockstat.TCP.alloc",	   "sockstat.TCP.mem",
	NULL,
};

static const char *peer_ts_str(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "unknown";
}

static size_t shown(const struct doc_analysis *a, const struct doc_render_opts *o)
{
	return o->top > 0 && (size_t)o->top < a->ngroups ? (size_t)o->top : a->ngroups;
}

static void group_local_remote(const struct doc_group *g, char *l, size_t ll, char *r, size_t rl)
{
	if (g->dir == DOC_OUT) {
		doc_endpoint(g->laddr, 0, l, ll);
		doc_endpoint(g->raddr, g->port, r, rl);
	} else {
		doc_endpoint(g->laddr, g->port, l, ll);
		doc_endpoint(g->raddr, 0, r, rl);
	}
}

/* Print text wrapped at 100 columns, first line after `lead`, next ones indented by `ind`. */
static void wrap(FILE *f, const char *lead, int ind, const char *text)
{
	int col = fprintf(f, "%s", lead);
	const char *p = text;
	while (*p) {
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		int w = (int)(e - p);
		if (col + w + 1 > 100 && col > ind) {
			fprintf(f, "\n%*s", ind, "");
			col = ind;
		} else if (p != text) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, (size_t)w, f);
		col += w;
		p = *e ? e + 1 : e;
	}
	fputc('\n', f);
}

void doc_render_text(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o)
{
	char b1[32], b2[32], b3[32], l[80], r[80];
	int crit = 0, warn = 0, info = 0;
	const char *on = "", *off = "";

	for (int i = 0; i < fs->n; i++)
		fs->f[i].sev == DOC_CRITICAL ? crit++ : fs->f[i].sev == DOC_WARNING ? warn++ : info++;

	fprintf(f, "twkit doctor: kernel %s (rules of %s%s)%s%s%s\n",
		s->release[0] ? s->release : "unknown", a->prof->name,
		a->profile_guessed ? ", guessed" : "", o->netns ? ", netns " : "",
		o->netns ? o->netns : "", o->replay ? ", from a capture" : "");
	/* one summary line */
	if (crit || warn) {
		const struct doc_finding *top = &fs->f[0];
		fprintf(f, "%s: %d critical, %d warning — %s\n",
			crit ? "PROBLEM" : "ATTENTION", crit, warn, top->summary);
	} else {
		fprintf(f, "OK: TIME-WAIT is not a problem here — %s TIME-WAIT (%s outgoing, %s "
			   "incoming); busiest outgoing budget %.1f%% used\n",
			units_fmt_count(b1, sizeof(b1), a->time_wait),
			units_fmt_count(b2, sizeof(b2), a->tw_out),
			units_fmt_count(b3, sizeof(b3), a->tw_in),
			a->ngroups && a->groups[0].dir == DOC_OUT ? a->groups[0].utilization * 100
								 : 0.0);
	}
	if (fs->n)
		fprintf(f, "\nFINDINGS\n");
	for (int i = 0; i < fs->n; i++) {
		const struct doc_finding *x = &fs->f[i];
		char lead[96];
		if (o->color) {
			on = x->sev == DOC_CRITICAL ? "\033[1;31m" : x->sev == DOC_WARNING ? "\033[1;33m"
											   : "\033[1;36m";
			off = "\033[0m";
		}
		snprintf(lead, sizeof(lead), "%s[%s]%s %s: ", on, doc_sev_name(x->sev), off, x->id);
		wrap(f, lead, 4, x->summary);
		for (int j = 0; j < x->nevidence; j++)
			wrap(f, "    - ", 6, x->evidence[j]);
		for (int j = 0; j < x->nadvice; j++) {
			char num[24];
			snprintf(num, sizeof(num), "    %d. ", j + 1);
			if (j == 0)
				fprintf(f, "    what to do, best first for this kernel:\n");
			wrap(f, num, 7, x->advice[j]);
		}
	}
	size_t n = shown(a, o);
	if (n) {
		fprintf(f, "\nGROUPS (%zu of %zu, busiest budget first)\n", n, a->ngroups);
		fprintf(f, "%-3s %-22s %-24s %7s %6s %6s %15s %6s %8s %8s %6s %4s\n", "dir", "local",
			"remote", "tw", "estab", "other", "ports used", "util", "tw/s 10s",
			"tw/s 60s", "eta", "ts");
		for (size_t i = 0; i < n; i++) {
			const struct doc_group *g = &a->groups[i];
			char used[40], eta[16];
			group_local_remote(g, l, sizeof(l), r, sizeof(r));
			snprintf(used, sizeof(used), "%u/%u", g->in_budget, g->ports_usable);
			if (g->eta_s >= 0 && g->eta_s < 0.5)
				snprintf(eta, sizeof(eta), "now");
			else if (g->eta_s >= 0)
				units_fmt_duration(eta, sizeof(eta), (int64_t)(g->eta_s * 1e9));
			else
				snprintf(eta, sizeof(eta), "-");
			fprintf(f, "%-3s %-22s %-24s %7u %6u %6u %15s %5.1f%% %8.1f %8.1f %6s %4s\n",
				g->dir == DOC_OUT ? "out" : "in", l, r, g->time_wait, g->established,
				g->other + g->tw_fin_wait2, used, g->utilization * 100, g->tw_rate_10s,
				g->tw_rate_60s, eta, peer_ts_str(g->peer_timestamps));
		}
	}
	fprintf(f, "\nSOCKETS  total %s:", units_fmt_count(b1, sizeof(b1), a->total));
	for (int st = 1; st < KDIAG_NSTATES; st++)
		if (a->by_state[st])
			fprintf(f, " %s %u", kdiag_state_name(st), a->by_state[st]);
	fprintf(f, "\n         TIME-WAIT %s (outgoing %s, incoming %s, FIN-WAIT-2 substate %u)\n",
		units_fmt_count(b1, sizeof(b1), a->time_wait),
		units_fmt_count(b2, sizeof(b2), a->tw_out),
		units_fmt_count(b3, sizeof(b3), a->tw_in), a->tw_fin_wait2);
	fprintf(f, "SETTINGS tcp_tw_reuse=%d tcp_timestamps=%d", a->tw_reuse, a->timestamps);
	if (s->set.tcp_tw_reuse_delay >= 0)
		fprintf(f, " tcp_tw_reuse_delay=%dms", s->set.tcp_tw_reuse_delay);
	if (s->set.tcp_tw_recycle >= 0)
		fprintf(f, " tcp_tw_recycle=%d", s->set.tcp_tw_recycle);
	fprintf(f, " ip_local_port_range=%d-%d (%s usable per destination)", a->port_lo,
		a->port_hi, units_fmt_count(b1, sizeof(b1), a->ports_usable_out));
	if (s->set.tcp_max_tw_buckets >= 0)
		fprintf(f, " tcp_max_tw_buckets=%lld", (long long)s->set.tcp_max_tw_buckets);
	fputc('\n', f);
	fprintf(f, "MEMORY   TIME-WAIT ~%s (%u x %u bytes, %s)\n",
		units_fmt_bytes(b1, sizeof(b1), a->tw_bytes), a->time_wait + a->tw_fin_wait2,
		a->tw_objsize, a->tw_objsize_from_slab ? "slabinfo" : "documented size");
	for (int i = 0; i < s->nmissing; i++)
		fprintf(f, "NOT READ %s\n", s->missing[i]);
}

static void json_setting(struct jw *w, const char *key, int64_t v)
{
	if (v < 0)
		jw_null(w, key);
	else
		jw_int(w, key, v);
}

void doc_render_json(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o)
{
	struct jw w;

	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", DOC_SCHEMA);
	jw_str(&w, "source", o->replay ? "capture" : "live");
	if (o->netns)
		jw_str(&w, "netns", o->netns);
	doc_render_json_body(&w, s, a, fs, o);
	jw_obj_end(&w);
	jw_finish(&w);
}

void doc_render_json_body(struct jw *wp, const struct snapshot *s, const struct doc_analysis *a,
			  const struct doc_findings *fs, const struct doc_render_opts *o)
{
	struct jw w = *wp;
	char l[80], r[80];
	const struct snap_settings *st = &s->set;

	jw_int(&w, "collected_ms", s->collected_ms);

	jw_obj_begin(&w, "kernel");
	jw_str(&w, "release", s->release);
	jw_str(&w, "profile", a->prof->name);
	jw_bool(&w, "profile_guessed", a->profile_guessed);
	jw_bool(&w, "has_tw_recycle", a->prof->has_tw_recycle);
	jw_obj_end(&w);

	jw_obj_begin(&w, "settings");
	json_setting(&w, "tcp_timestamps", st->tcp_timestamps);
	json_setting(&w, "tcp_tw_reuse", st->tcp_tw_reuse);
	json_setting(&w, "tcp_tw_reuse_delay", st->tcp_tw_reuse_delay);
	json_setting(&w, "tcp_tw_recycle", st->tcp_tw_recycle);
	jw_obj_begin(&w, "ip_local_port_range");
	json_setting(&w, "low", st->port_lo);
	json_setting(&w, "high", st->port_hi);
	jw_obj_end(&w);
	if (st->have_reserved)
		jw_str(&w, "ip_local_reserved_ports", st->reserved_text);
	else
		jw_null(&w, "ip_local_reserved_ports");
	json_setting(&w, "tcp_max_tw_buckets", st->tcp_max_tw_buckets);
	json_setting(&w, "tcp_fin_timeout", st->tcp_fin_timeout);
	json_setting(&w, "tcp_syn_retries", st->tcp_syn_retries);
	json_setting(&w, "fs_file_max", st->file_max);
	json_setting(&w, "fs_file_nr", st->file_nr);
	jw_obj_begin(&w, "rlimit_nofile");
	json_setting(&w, "soft", st->nofile_cur);
	json_setting(&w, "hard", st->nofile_max);
	jw_obj_end(&w);
	jw_obj_end(&w);

	jw_obj_begin(&w, "counters");
	for (int i = 0; doc_counter_names[i]; i++) {
		uint64_t v;
		if (kcounters_get(&s->counters, doc_counter_names[i], &v) == 0)
			jw_uint(&w, doc_counter_names[i], v);
	}
	jw_obj_end(&w);

	jw_obj_begin(&w, "sockets");
	jw_uint(&w, "total", a->total);
	jw_uint(&w, "time_wait", a->time_wait);
	jw_uint(&w, "time_wait_fin_wait2", a->tw_fin_wait2);
	jw_uint(&w, "time_wait_outgoing", a->tw_out);
	jw_uint(&w, "time_wait_incoming", a->tw_in);
	jw_obj_begin(&w, "by_state");
	for (int i = 1; i < KDIAG_NSTATES; i++)
		if (a->by_state[i])
			jw_uint(&w, kdiag_state_name(i), a->by_state[i]);
	jw_obj_end(&w);
	jw_obj_end(&w);

	jw_obj_begin(&w, "budget");
	jw_int(&w, "port_range_size", a->port_hi - a->port_lo + 1);
	jw_uint(&w, "ports_usable_per_destination", a->ports_usable_out);
	jw_uint(&w, "reserved_in_range", a->reserved_in_range);
	jw_uint(&w, "held_by_listeners_in_range", a->listeners_in_range);
	jw_uint(&w, "ports_assumed_per_remote_client", a->ports_peer_default);
	jw_obj_end(&w);

	jw_uint(&w, "groups_total", a->ngroups);
	jw_arr_begin(&w, "groups");
	for (size_t i = 0; i < shown(a, o); i++) {
		const struct doc_group *g = &a->groups[i];
		group_local_remote(g, l, sizeof(l), r, sizeof(r));
		jw_obj_begin(&w, NULL);
		jw_str(&w, "direction", g->dir == DOC_OUT ? "outgoing" : "incoming");
		jw_str(&w, "local", l);
		jw_str(&w, "remote", r);
		jw_uint(&w, "time_wait", g->time_wait);
		jw_uint(&w, "time_wait_fin_wait2", g->tw_fin_wait2);
		jw_uint(&w, "established", g->established);
		jw_uint(&w, "other", g->other);
		jw_uint(&w, "ports_used", g->in_budget);
		jw_uint(&w, "ports_usable", g->ports_usable);
		jw_double(&w, "utilization", g->utilization, 4);
		jw_double(&w, "tw_rate_10s", g->tw_rate_10s, 2);
		jw_double(&w, "tw_rate_60s", g->tw_rate_60s, 2);
		if (g->eta_s >= 0)
			jw_double(&w, "eta_s", g->eta_s, 1);
		else
			jw_null(&w, "eta_s");
		jw_str(&w, "peer_timestamps", peer_ts_str(g->peer_timestamps));
		jw_bool(&w, "loopback", g->loopback);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);

	jw_obj_begin(&w, "memory");
	jw_uint(&w, "time_wait_bytes", a->tw_bytes);
	jw_uint(&w, "bytes_per_time_wait", a->tw_objsize);
	jw_str(&w, "source", a->tw_objsize_from_slab ? "slabinfo" : "documented");
	jw_obj_end(&w);

	jw_arr_begin(&w, "findings");
	for (int i = 0; i < fs->n; i++) {
		const struct doc_finding *x = &fs->f[i];
		jw_obj_begin(&w, NULL);
		jw_str(&w, "id", x->id);
		jw_str(&w, "severity", doc_sev_name(x->sev));
		jw_str(&w, "summary", x->summary);
		if (x->eta_s >= 0)
			jw_double(&w, "eta_s", x->eta_s, 1);
		else
			jw_null(&w, "eta_s");
		jw_arr_begin(&w, "evidence");
		for (int j = 0; j < x->nevidence; j++)
			jw_str(&w, NULL, x->evidence[j]);
		jw_arr_end(&w);
		jw_arr_begin(&w, "advice");
		for (int j = 0; j < x->nadvice; j++)
			jw_str(&w, NULL, x->advice[j]);
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);

	jw_arr_begin(&w, "not_read");
	for (int i = 0; i < s->nmissing; i++)
		jw_str(&w, NULL, s->missing[i]);
	jw_arr_end(&w);
	*wp = w;
}
