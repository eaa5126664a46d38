/*
 * render_prom — doctor's Prometheus text exposition (docs/prometheus.md lists every family).
 * Invariants: every family's HELP/TYPE comes once, followed by the samples of every source in
 * turn; names follow Prometheus' conventions so that `promtool check metrics` passes (counters
 * end in _total, units in the name in base units, one meaning per label); nothing is computed
 * here beyond a unit conversion to base units (ms -> s).
 */
#include <inttypes.h>
#include <stdbool.h>

#include "common/promw.h"
#include "doctor/render.h"
#include "kernel/sockdiag.h"

enum { K_COUNTER, K_GAUGE };

/* A kernel figure as a family of its own: counters and gauges never share one. */
static const struct kfig {
	const char *key, *name;
	int kind;
	const char *help;
} kfigs[] = {
	{ "TcpExt.TW", "twkit_kernel_tcpext_tw_total", K_COUNTER,
	  "TcpExt TW from /proc/net/netstat." },
	{ "TcpExt.TWKilled", "twkit_kernel_tcpext_twkilled_total", K_COUNTER,
	  "TcpExt TWKilled from /proc/net/netstat." },
	{ "TcpExt.TWRecycled", "twkit_kernel_tcpext_twrecycled_total", K_COUNTER,
	  "TcpExt TWRecycled from /proc/net/netstat." },
	{ "TcpExt.PAWSActive", "twkit_kernel_tcpext_pawsactive_total", K_COUNTER,
	  "TcpExt PAWSActive from /proc/net/netstat." },
	{ "TcpExt.PAWSEstab", "twkit_kernel_tcpext_pawsestab_total", K_COUNTER,
	  "TcpExt PAWSEstab from /proc/net/netstat." },
	{ "TcpExt.PAWSPassive", "twkit_kernel_tcpext_pawspassive_total", K_COUNTER,
	  "TcpExt PAWSPassive from /proc/net/netstat." },
	{ "TcpExt.PAWSTimewait", "twkit_kernel_tcpext_pawstimewait_total", K_COUNTER,
	  "TcpExt PAWSTimewait from /proc/net/netstat." },
	{ "TcpExt.TCPTimeWaitOverflow", "twkit_kernel_tcpext_tcptimewaitoverflow_total", K_COUNTER,
	  "TcpExt TCPTimeWaitOverflow from /proc/net/netstat." },
	{ "TcpExt.TCPAbortOnClose", "twkit_kernel_tcpext_tcpabortonclose_total", K_COUNTER,
	  "TcpExt TCPAbortOnClose from /proc/net/netstat." },
	{ "TcpExt.TCPAbortOnData", "twkit_kernel_tcpext_tcpabortondata_total", K_COUNTER,
	  "TcpExt TCPAbortOnData from /proc/net/netstat." },
	{ "Tcp.ActiveOpens", "twkit_kernel_tcp_activeopens_total", K_COUNTER,
	  "Tcp ActiveOpens from /proc/net/snmp." },
	{ "Tcp.PassiveOpens", "twkit_kernel_tcp_passiveopens_total", K_COUNTER,
	  "Tcp PassiveOpens from /proc/net/snmp." },
	{ "Tcp.AttemptFails", "twkit_kernel_tcp_attemptfails_total", K_COUNTER,
	  "Tcp AttemptFails from /proc/net/snmp." },
	{ "Tcp.EstabResets", "twkit_kernel_tcp_estabresets_total", K_COUNTER,
	  "Tcp EstabResets from /proc/net/snmp." },
	{ "Tcp.OutRsts", "twkit_kernel_tcp_outrsts_total", K_COUNTER,
	  "Tcp OutRsts from /proc/net/snmp." },
	{ "Tcp.CurrEstab", "twkit_kernel_tcp_currestab", K_GAUGE,
	  "Tcp CurrEstab from /proc/net/snmp." },
	{ "sockstat.TCP.inuse", "twkit_kernel_sockstat_tcp_inuse", K_GAUGE,
	  "sockstat TCP inuse from /proc/net/sockstat." },
	{ "sockstat.TCP.orphan", "twkit_kernel_sockstat_tcp_orphan", K_GAUGE,
	  "sockstat TCP orphan from /proc/net/sockstat." },
	{ "sockstat.TCP.tw", "twkit_kernel_sockstat_tcp_tw", K_GAUGE,
	  "sockstat TCP tw from /proc/net/sockstat." },
	{ "sockstat.TCP.alloc", "twkit_kernel_sockstat_tcp_alloc", K_GAUGE,
	  "sockstat TCP alloc from /proc/net/sockstat." },
	{ "sockstat.TCP.mem", "twkit_kernel_sockstat_tcp_mem_pages", K_GAUGE,
	  "sockstat TCP mem in pages from /proc/net/sockstat." },
};
#define NKFIGS (sizeof(kfigs) / sizeof(kfigs[0]))

/* What a family writes for one source; arg picks among similar families. */
typedef void (*emit_fn)(struct promw *w, const char *name, const struct doc_prom_source *src,
			const struct doc_render_opts *o, int arg);

struct family {
	const char *name, *type, *help;
	emit_fn emit;
	int arg;
};

static size_t shown(const struct doc_analysis *a, const struct doc_render_opts *o)
{
	return o->top > 0 && (size_t)o->top < a->ngroups ? (size_t)o->top : a->ngroups;
}

static void emit_collected(struct promw *w, const char *name, const struct doc_prom_source *src,
			   const struct doc_render_opts *o, int arg)
{
	if (src->s->collected_ms <= 0)
		return;
	promw_begin(w, name);
	promw_end_double(w, (double)src->s->collected_ms / 1000.0, 3);
}

static void emit_kernel_info(struct promw *w, const char *name,
			     const struct doc_prom_source *src, const struct doc_render_opts *o,
			     int arg)
{
	promw_begin(w, name);
	promw_label(w, "release", src->s->release[0] ? src->s->release : "unknown");
	promw_label(w, "profile", src->a->prof->name);
	promw_label(w, "profile_guessed", src->a->profile_guessed ? "true" : "false");
	promw_end_uint(w, 1);
}

static void emit_states(struct promw *w, const char *name, const struct doc_prom_source *src,
			const struct doc_render_opts *o, int arg)
{
	for (int i = 1; i < KDIAG_NSTATES; i++) {
		promw_begin(w, name);
		promw_label(w, "state", kdiag_state_name(i));
		promw_end_uint(w, src->a->by_state[i]);
	}
}

static void emit_tw_dir(struct promw *w, const char *name, const struct doc_prom_source *src,
			const struct doc_render_opts *o, int arg)
{
	promw_begin(w, name);
	promw_label(w, "direction", "outgoing");
	promw_end_uint(w, src->a->tw_out);
	promw_begin(w, name);
	promw_label(w, "direction", "incoming");
	promw_end_uint(w, src->a->tw_in);
}

enum { A_TW_FW2, A_TW_BYTES, A_PORTS_USABLE };

static void emit_analysis(struct promw *w, const char *name, const struct doc_prom_source *src,
			  const struct doc_render_opts *o, int arg)
{
	const struct doc_analysis *a = src->a;
	promw_begin(w, name);
	promw_end_uint(w, arg == A_TW_FW2 ? a->tw_fin_wait2
			  : arg == A_TW_BYTES ? a->tw_bytes
					      : a->ports_usable_out);
}

enum { G_TW, G_ESTAB, G_USED, G_USABLE, G_UTIL, G_RATE, G_ETA, G_PEER_TS };

/* A group's labels: direction, the local IP (and port, for an incoming group's listening
 * port), the remote IP (and port, for an outgoing group's destination port). */
static void group_labels(struct promw *w, const struct doc_group *g)
{
	char ip[64];
	promw_label(w, "direction", g->dir == DOC_OUT ? "outgoing" : "incoming");
	promw_label(w, "local_ip", doc_endpoint(g->laddr, 0, ip, sizeof(ip)));
	if (g->dir == DOC_IN)
		promw_label_uint(w, "local_port", g->port);
	promw_label(w, "remote_ip", doc_endpoint(g->raddr, 0, ip, sizeof(ip)));
	if (g->dir == DOC_OUT)
		promw_label_uint(w, "remote_port", g->port);
}

static void emit_group(struct promw *w, const char *name, const struct doc_prom_source *src,
		       const struct doc_render_opts *o, int arg)
{
	for (size_t i = 0; i < shown(src->a, o); i++) {
		const struct doc_group *g = &src->a->groups[i];
		if ((arg == G_ETA && g->eta_s < 0) || (arg == G_PEER_TS && g->peer_timestamps < 0))
			continue;
		if (arg == G_RATE) {
			promw_begin(w, name);
			group_labels(w, g);
			promw_label(w, "window", "10s");
			promw_end_double(w, g->tw_rate_10s, 2);
			promw_begin(w, name);
			group_labels(w, g);
			promw_label(w, "window", "60s");
			promw_end_double(w, g->tw_rate_60s, 2);
			continue;
		}
		promw_begin(w, name);
		group_labels(w, g);
		switch (arg) {
		case G_TW:
			promw_end_uint(w, g->time_wait);
			break;
		case G_ESTAB:
			promw_end_uint(w, g->established);
			break;
		case G_USED:
			promw_end_uint(w, g->in_budget);
			break;
		case G_USABLE:
			promw_end_uint(w, g->ports_usable);
			break;
		case G_UTIL:
			promw_end_double(w, g->utilization, 4);
			break;
		case G_ETA:
			promw_end_double(w, g->eta_s, 1);
			break;
		default:
			promw_end_uint(w, (uint64_t)g->peer_timestamps);
		}
	}
}

static void emit_kfig(struct promw *w, const char *name, const struct doc_prom_source *src,
		      const struct doc_render_opts *o, int arg)
{
	uint64_t v;
	if (kcounters_get(&src->s->counters, kfigs[arg].key, &v) < 0)
		return; /* not on this kernel, or not read */
	promw_begin(w, name);
	promw_end_uint(w, v);
}

enum { S_REUSE, S_REUSE_DELAY, S_RECYCLE, S_TS, S_BUCKETS, S_FIN, S_PORT_LO, S_PORT_HI };

static void emit_sysctl(struct promw *w, const char *name, const struct doc_prom_source *src,
			const struct doc_render_opts *o, int arg)
{
	const struct snap_settings *st = &src->s->set;
	int64_t v = arg == S_REUSE	   ? st->tcp_tw_reuse
		    : arg == S_REUSE_DELAY ? st->tcp_tw_reuse_delay
		    : arg == S_RECYCLE	   ? st->tcp_tw_recycle
		    : arg == S_TS	   ? st->tcp_timestamps
		    : arg == S_BUCKETS	   ? st->tcp_max_tw_buckets
		    : arg == S_FIN	   ? st->tcp_fin_timeout
		    : arg == S_PORT_LO	   ? st->port_lo
					   : st->port_hi;
	if (v < 0)
		return; /* absent: not on this kernel */
	promw_begin(w, name);
	if (arg == S_REUSE_DELAY) /* the sysctl counts ms; Prometheus wants seconds */
		promw_end_double(w, (double)v / 1000.0, 3);
	else
		promw_end_uint(w, (uint64_t)v);
}

static void emit_finding(struct promw *w, const char *name, const struct doc_prom_source *src,
			 const struct doc_render_opts *o, int arg)
{
	for (int i = 0; i < src->fs->n; i++) {
		promw_begin(w, name);
		promw_label(w, "id", src->fs->f[i].id);
		promw_label(w, "severity", doc_sev_name(src->fs->f[i].sev));
		promw_end_uint(w, 1);
	}
}

static void emit_findings(struct promw *w, const char *name, const struct doc_prom_source *src,
			  const struct doc_render_opts *o, int arg)
{
	for (int sev = DOC_INFO; sev <= DOC_CRITICAL; sev++) {
		uint64_t c = 0;
		for (int i = 0; i < src->fs->n; i++)
			c += (int)src->fs->f[i].sev == sev;
		promw_begin(w, name);
		promw_label(w, "severity", doc_sev_name((enum DOC_SEV)sev));
		promw_end_uint(w, c);
	}
}

static const struct family fams[] = {
	{ "twkit_collected_timestamp_seconds", "gauge",
	  "When the look was taken (Unix time; a capture's own time with --replay).",
	  emit_collected, 0 },
	{ "twkit_kernel_info", "gauge",
	  "1, labelled with the kernel release and the kernel model's profile used for it.",
	  emit_kernel_info, 0 },
	{ "twkit_tcp_sockets", "gauge",
	  "TCP sockets by state; TIME-WAIT minisockets counted under their substate.", emit_states,
	  0 },
	{ "twkit_time_wait_sockets", "gauge",
	  "TIME-WAIT sockets (TIME_WAIT substate) by direction: outgoing (this host connected) or "
	  "incoming (it accepted).",
	  emit_tw_dir, 0 },
	{ "twkit_time_wait_fin_wait2_sockets", "gauge",
	  "TIME-WAIT minisockets in the FIN_WAIT2 substate (orphaned FIN-WAIT-2).", emit_analysis,
	  A_TW_FW2 },
	{ "twkit_time_wait_memory_bytes", "gauge", "Memory held by TIME-WAIT sockets.",
	  emit_analysis, A_TW_BYTES },
	{ "twkit_ports_usable_per_destination", "gauge",
	  "Local ports connect() can use toward one destination (range minus reserved and "
	  "listening ports).",
	  emit_analysis, A_PORTS_USABLE },
	{ "twkit_group_time_wait_sockets", "gauge",
	  "TIME-WAIT sockets in a budget group (the --top busiest groups).", emit_group, G_TW },
	{ "twkit_group_established_sockets", "gauge", "Established sockets in a budget group.",
	  emit_group, G_ESTAB },
	{ "twkit_group_ports_used", "gauge", "Ports of the group's budget in use.", emit_group,
	  G_USED },
	{ "twkit_group_ports_usable", "gauge", "Ports the group's budget holds.", emit_group,
	  G_USABLE },
	{ "twkit_group_utilization_ratio", "gauge",
	  "Share of the group's port budget in use (0..1).", emit_group, G_UTIL },
	{ "twkit_group_time_wait_created_per_second", "gauge",
	  "TIME-WAIT created per second in the group, measured from the timers over a window "
	  "(10s or 60s).",
	  emit_group, G_RATE },
	{ "twkit_group_exhaustion_eta_seconds", "gauge",
	  "Forecast seconds until the group has no port left at the 10 s rate (absent: the rate "
	  "fits the budget).",
	  emit_group, G_ETA },
	{ "twkit_group_peer_timestamps", "gauge",
	  "1 if the group's peer negotiates TCP timestamps (tcp_tw_reuse needs them), 0 if not; "
	  "absent: unknown.",
	  emit_group, G_PEER_TS },
	{ NULL, NULL, NULL, NULL, 0 }, /* here the kernel's figures, kfigs[] */
	{ "twkit_sysctl_tcp_tw_reuse", "gauge", "net.ipv4.tcp_tw_reuse (0 off, 1 on, 2 loopback).",
	  emit_sysctl, S_REUSE },
	{ "twkit_sysctl_tcp_tw_reuse_delay_seconds", "gauge",
	  "net.ipv4.tcp_tw_reuse_delay (absent: not on this kernel).", emit_sysctl,
	  S_REUSE_DELAY },
	{ "twkit_sysctl_tcp_tw_recycle", "gauge",
	  "net.ipv4.tcp_tw_recycle (absent: removed in 4.12).", emit_sysctl, S_RECYCLE },
	{ "twkit_sysctl_tcp_timestamps", "gauge", "net.ipv4.tcp_timestamps.", emit_sysctl, S_TS },
	{ "twkit_sysctl_tcp_max_tw_buckets", "gauge", "net.ipv4.tcp_max_tw_buckets.",
	  emit_sysctl, S_BUCKETS },
	{ "twkit_sysctl_tcp_fin_timeout_seconds", "gauge",
	  "net.ipv4.tcp_fin_timeout (FIN-WAIT-2 only; TIME-WAIT stays 60 s).", emit_sysctl, S_FIN },
	{ "twkit_sysctl_ip_local_port_range_low", "gauge",
	  "net.ipv4.ip_local_port_range, first port.", emit_sysctl, S_PORT_LO },
	{ "twkit_sysctl_ip_local_port_range_high", "gauge",
	  "net.ipv4.ip_local_port_range, last port.", emit_sysctl, S_PORT_HI },
	{ "twkit_finding", "gauge", "1 for each finding present, by id and severity.",
	  emit_finding, 0 },
	{ "twkit_findings", "gauge", "Number of findings by severity.", emit_findings, 0 },
};

static void family(FILE *f, const char *name, const char *type, const char *help, emit_fn emit,
		   int arg, const struct doc_prom_source *src, size_t n,
		   const struct doc_render_opts *o)
{
	promw_family(f, name, type, help);
	for (size_t i = 0; i < n; i++) {
		struct promw w;
		promw_init(&w, f, src[i].labels, src[i].nlabels);
		emit(&w, name, &src[i], o, arg);
	}
}

void doc_render_prom_sources(FILE *f, const struct doc_prom_source *src, size_t n,
			     const struct doc_render_opts *o)
{
	struct promw w;
	promw_init(&w, f, NULL, 0);
	promw_family(f, "twkit_build_info", "gauge", "1, labelled with the version of twkit.");
	promw_begin(&w, "twkit_build_info");
	promw_label(&w, "version", o->version ? o->version : TWKIT_VERSION);
	promw_end_uint(&w, 1);
	if (o->scrape_seconds > 0) {
		promw_family(f, "twkit_scrape_duration_seconds", "gauge",
			     "Time this exposition took: collection, analysis and findings.");
		promw_begin(&w, "twkit_scrape_duration_seconds");
		promw_end_double(&w, o->scrape_seconds, 6);
	}
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		if (fams[i].emit) {
			family(f, fams[i].name, fams[i].type, fams[i].help, fams[i].emit,
			       fams[i].arg, src, n, o);
			continue;
		}
		for (size_t k = 0; k < NKFIGS; k++)
			family(f, kfigs[k].name, kfigs[k].kind == K_COUNTER ? "counter" : "gauge",
			       kfigs[k].help, emit_kfig, (int)k, src, n, o);
	}
}

void doc_render_prom(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o)
{
	struct doc_prom_source src = { .s = s, .a = a, .fs = fs };
	doc_render_prom_sources(f, &src, 1, o);
}
