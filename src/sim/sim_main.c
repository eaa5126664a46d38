/*
 * sim — the `twkit sim` verb: pick a scenario (built-in name or INI file), apply --set,
 * --kernel, --duration and --seed, run it, render. Options come from one static table;
 * parse, validate, then run with a const config. Exit 2 for usage and scenario errors.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/opt.h"
#include "common/outpath.h"
#include "common/units.h"
#include "model/portsearch.h"
#include "model/reuse.h"
#include "model/timewait.h"
#include "sim/state.h"
#include "sim/report.h"
#include "sim/sim.h"
#include "verbs.h"

#define SIM_MAX_ERAS 8 /* lines one chart keeps apart (plot.h's palette) */

/* What the command line says, filled by opt_apply() from specs[] below; --set, --kernel and
 * --seed keep their own grammar and are converted once the scenario is loaded. */
struct sim_opts {
	bool help, list, list_kernels;
	const char *scen;
	const char *set;     /* --set lines joined by '\n', NULL */
	const char *kernel;  /* --kernel ERA[,ERA...] as given, NULL */
	int64_t duration_ns; /* --duration; 0: the scenario's */
	const char *seed;    /* --seed as given (64 bits exactly, as the INI key), NULL */
	bool json, csv, no_series, explain, show, quiet;
	const char *svg, *host;
	uint64_t max_mem; /* bytes; 0 = no limit */
	bool max_mem_default;
	int neras; /* --kernel A,B,C; 0 without --kernel */
	char eras[SIM_MAX_ERAS][SIM_NAME_LEN];
};

#define SO struct sim_opts
static const struct opt_spec specs[] = {
    /* the actions first: main applies them alone before the rest (see NACTIONS) */
    {.name = "help", .shortname = 'h', OPT_FLAG_TO(SO, help), .help = "show this help"},
    {.name = "list",
     .shortname = 'l',
     OPT_FLAG_TO(SO, list),
     .help = "list the built-in scenarios"},
    {.name = "list-kernels",
     OPT_FLAG_TO(SO, list_kernels),
     .help = "list the kernel eras (profiles)"},
    {.name = "explain",
     .shortname = 'e',
     OPT_FLAG_TO(SO, explain),
     .help = "say what the scenario shows and why, then run it"},
    {.name = "show", OPT_FLAG_TO(SO, show), .help = "print the scenario as an INI file and exit"},
    /* repeatable, SECTION.KEY=VALUE: the scenario's own grammar (sim_scenario_set_lines) */
    {.name = "set",
     .shortname = 's',
     .kind = OPT_MULTI,
     .type = OPT_T_STR,
     .off = OPT_OFF_(SO, set, const char *),
     .metavar = "SECTION.KEY=VALUE",
     .help = "override a scenario value (repeatable)"},
    /* eras, versions and comma lists: model/profile.c decides (parse_eras) */
    {.name = "kernel",
     .shortname = 'k',
     OPT_STR_TO(SO, kernel),
     .metavar = "ERA[,ERA...]",
     .help = "run every host on this kernel era: a name from --list-kernels, a version (5.9 runs "
	     "as 5.4, and says so) or host; a comma list runs each era and shows them side by "
	     "side (--json: schema twkit.sim-eras/1; --svg: one line per era)"},
    {.name = "duration",
     .shortname = 'd',
     OPT_DUR_TO(SO, duration_ns),
     .min = 1e9,
     .max = 7 * 86400e9,
     .metavar = "DURATION",
     .help = "simulated time, e.g. 90s, 1h30m (default: the scenario's, else 120s)"},
    /* a string: a seed is plain digits (no 10k, no 1e3), as the INI key takes it */
    {.name = "seed",
     OPT_STR_TO(SO, seed),
     .metavar = "N",
     .help = "random seed (same seed, same output; default: the scenario's, else 1)"},
    {.name = "json",
     .shortname = 'j',
     OPT_FLAG_TO(SO, json),
     .help = "JSON output (schema twkit.sim/1)"},
    {.name = "no-series",
     OPT_FLAG_TO(SO, no_series),
     .help = "leave the per-second series out of --json"},
    {.name = "csv", OPT_FLAG_TO(SO, csv), .help = "per-second series of one host as CSV on stdout"},
    {.name = "svg",
     OPT_STR_TO(SO, svg),
     .metavar = "FILE",
     .help = "plot the per-second series to FILE: every host where something changes, or --host"},
    {.name = "host",
     OPT_STR_TO(SO, host),
     .metavar = "NAME",
     .help = "host for --csv/--svg (default: the first client for --csv and --kernel A,B)"},
    {.name = "quiet", .shortname = 'q', OPT_FLAG_TO(SO, quiet), .help = "no progress line"},
    /* no .def: the default is this machine's (default_max_memory) */
    {.name = "max-memory",
     OPT_SIZE_TO(SO, max_mem, 0, 0),
     .hint = "0: no limit",
     .metavar = "SIZE",
     .help = "refuse a run estimated above SIZE (e.g. 2GiB; 0: no limit; default a quarter of "
	     "this machine's memory)"},
};
#undef SO
#define NSPECS ((int)(sizeof(specs) / sizeof(specs[0])))
#define NACTIONS 3 /* --help, --list, --list-kernels: answered whatever else is given */

/* ---- memory estimate (sim_mem_estimate, sim.h) ----
 *
 * An upper bound of the run's peak resident memory from the scenario alone, following how
 * engine.c, net.c and tables.c allocate: per TCP host its record, its port-selection table
 * (§3.2, tw_portsel_table_size entries of 4 bytes, allocated at its first connect()) and per
 * destination a 320-byte record and an 8 KiB bitmap of held ports; per NAT/L4 public address
 * 64Ki 8-byte port timers; then the records alive at the peak: a 128-byte connection record
 * and 48-byte sockets per open connection, one 48-byte socket and a 4-byte FIFO entry per
 * TIME-WAIT, and the ehash pages (a 64-byte line and an 8-byte key per page, hashed in
 * half-full buckets) where a host keeps one. Populations are bounded by arrivals in a window
 * (a connection's life; 60 s for a TIME-WAIT) and, where the kernel's own limits bind, by the
 * ports and tcp_max_tw_buckets. Arrays grow by doubling: copying one touches the old array
 * and as much of the new, so an array of n records peaks at the next power of two times its
 * record (from its first capacity), and 2 MiB more when big (huge pages).
 */
#define MEM_BASE (8ULL << 20) /* the program, its libraries and stack: 5 MiB measured */
#define MEM_THP (2ULL << 20)  /* a big array's last huge page */
#define MEM_MALLOC 32	      /* malloc's header and rounding per allocation */
#define MEM_HELD (1024 * 8)   /* a destination's held-port bitmap (net.c: dest_get) */
#define MEM_SERIES_COLS 10    /* engine.c: series_cols */
#define TW_LIFE_S 60.0	      /* §1.3: every TIME-WAIT timer is at most 60 s */
#define MEM_MMAP (128u << 10) /* glibc serves blocks this big with mmap: whole pages */

/* Doubling from cap0: the capacity an array of n records peaks at, times sz; 0 for none. */
static uint64_t grown(uint64_t n, uint64_t cap0, uint64_t sz)
{
	uint64_t c = cap0, b;
	if (!n)
		return 0;
	while (c < n)
		c *= 2;
	b = c * sz;
	return b >= (4ULL << 20) ? b + MEM_THP : b;
}

/* Arrivals at rate r per second in a window of w seconds, at most: the mean and six standard
 * deviations of a Poisson count (exceeded with probability below 1e-9), so that poisson and
 * ramp arrivals are covered as constant ones are. */
static double arrivals(double r, double w)
{
	double m = r * w;
	return m + 6 * sqrt(m) + 16;
}

/* An ehash (struct sim_pt) of `entries` sockets in at most `pages` pages, on one host. */
static uint64_t pt_bytes(uint64_t entries, uint64_t pages)
{
	uint64_t buckets;
	if (!entries)
		return 0;
	if (pages > entries)
		pages = entries;
	buckets = (pages * 2 + SIM_EH_LANES - 1) / SIM_EH_LANES; /* at most half full */
	return grown(pages, 8, sizeof(uint64_t) + sizeof(struct sim_pt_line)) +
	       grown(buckets, 8, sizeof(struct sim_eh_bkt)) * 3 / 2 + /* old + new, zeroed */
	       (pages >= SIM_PT_HOT / 2 ? SIM_PT_HOT * sizeof(uint32_t) : 0);
}

static double dmin(double a, double b)
{
	return a < b ? a : b;
}

/* How long a connection's SYNs may be retried: not at all; once (a SYN that meets a
 * TIME-WAIT is answered with an ACK, and the client's RST kills the TIME-WAIT, §5.1); until
 * the TIME-WAIT ends (rfc1337 = 1 keeps it); until connect() gives up (a NAT or balancer out
 * of ports, tw_recycle's drop, §4.3, §10) */
enum { DROP_NONE, DROP_ONCE, DROP_TW, DROP_ALL };

/* Per node: what the estimate needs to know of its path and traffic. */
struct est_node {
	const struct tw_profile *p;
	int target, lb; /* accepting node; L4 balancer whose VIP it connects to, -1 */
	bool xlated;	/* a NAT or L4 balancer rewrites its source */
	int last_hop;	/* the last rewriting hop, -1 */
	double rate;	/* connections/s it opens (connecting nodes) */
	double hosts;	/* TCP machines */
	double span;	/* ports of its range */
	double dests;	/* destinations per host */
	bool reusable, eh_on;
	int drops;	       /* DROP_* */
	double entries, pages; /* its ehash, all hosts */
	double live, tw;       /* open connections it opened, TIME-WAITs it holds */
};

static void est_path(const struct sim_scenario *sc, int i, struct est_node *en)
{
	int j = i, hops = 0;
	en->target = en->lb = en->last_hop = -1;
	while (sc->nodes[j].via[0] && hops++ <= SIM_MAX_NODES) {
		int k = -1;
		for (int m = 0; m < sc->nnodes; m++)
			if (!strcmp(sc->nodes[m].name, sc->nodes[j].via))
				k = m;
		if (k < 0)
			return;
		if (sc->nodes[k].kind == SIM_NODE_SERVER || sc->nodes[k].kind == SIM_NODE_L7LB) {
			en->target = k;
			return;
		}
		en->xlated = true;
		en->last_hop = k;
		en->lb = sc->nodes[k].kind == SIM_NODE_L4LB ? k : -1;
		j = k;
	}
}

int sim_mem_estimate(const struct sim_config *cfg, struct sim_mem_estimate *est)
{
	const struct sim_scenario *sc = cfg->sc;
	struct est_node en[SIM_MAX_NODES];
	double dur_s = (double)sc->duration_ns / 1e9, live = 0, pool = 0, tw = 0, heap = 0;
	double hostb[SIM_MAX_NODES] = {0};
	int nn = sc->nnodes;

	memset(est, 0, sizeof(*est));
	memset(en, 0, sizeof(en));
	est->host_node = est->live_node = est->tw_node = -1;
	for (int i = 0; i < nn; i++) {
		const struct sim_node *n = &sc->nodes[i];
		struct est_node *e = &en[i];
		e->target = e->lb = e->last_hop = -1;
		if (n->kind == SIM_NODE_NAT || n->kind == SIM_NODE_L4LB)
			continue;
		e->p = tw_profile_by_name(n->kernel[0] ? n->kernel : sc->kernel, cfg->host_release);
		if (!e->p)
			return -EINVAL;
		e->hosts = n->kind == SIM_NODE_CLIENT ? n->count : 1;
		e->span =
		    n->port_lo ? n->port_hi - n->port_lo + 1 : e->p->port_hi - e->p->port_lo + 1;
		if (n->kind == SIM_NODE_SERVER)
			continue;
		est_path(sc, i, e);
		if (e->target < 0)
			return -EINVAL;
		const struct sim_node *t = &sc->nodes[e->target];
		e->dests = (double)n->ips * (e->lb >= 0 ? sc->nodes[e->lb].ips : t->ips * t->ports);
		struct tw_reuse_scope rs = {.reuse =
						n->tw_reuse < 0 ? e->p->reuse_default : n->tw_reuse,
					    .timestamps = n->timestamps,
					    .peer_timestamps = -1,
					    .outgoing = true};
		e->reusable = n->bind_port || n->port_select == SIM_PORTSEL_APP ||
			      tw_reuse_explain(e->p, &rs) == TW_REUSE_PEER_UNKNOWN;
		if (n->kind == SIM_NODE_CLIENT)
			e->rate = (n->rate > n->rate_to ? n->rate : n->rate_to) * n->count;
	}
	/* an L7 balancer opens one backend connection per connection it accepts; no via
	 * cycles (sim_scenario_check), so nn rounds settle every chain of balancers */
	for (int round = 0; round < nn; round++)
		for (int i = 0; i < nn; i++) {
			if (sc->nodes[i].kind != SIM_NODE_L7LB)
				continue;
			en[i].rate = 0;
			for (int j = 0; j < nn; j++)
				if (en[j].p && sc->nodes[j].kind != SIM_NODE_SERVER &&
				    en[j].target == i)
					en[i].rate += en[j].rate;
		}
	/* SYNs can be dropped, and retried up to syn_fail, where something on the path drops
	 * them: a NAT or L4 balancer out of ports, tw_recycle on the target (§4.3), or a
	 * TIME-WAIT on the target (the target closes, §5.1) */
	for (int i = 0; i < nn; i++) {
		int t = en[i].target;
		if (!en[i].p || sc->nodes[i].kind == SIM_NODE_SERVER || t < 0)
			continue;
		for (int j = 0; j < nn; j++)
			if (en[j].target == t && sc->nodes[j].kind != SIM_NODE_SERVER &&
			    sc->nodes[j].closes == SIM_CLOSES_SERVER && !sc->nodes[j].linger0)
				en[i].drops = sc->nodes[t].rfc1337 ? DROP_TW : DROP_ONCE;
		if (en[i].xlated || (sc->nodes[t].tw_recycle && tw_recycle_available(en[t].p)))
			en[i].drops = DROP_ALL;
	}
	for (int i = 0; i < nn; i++) {
		const struct sim_node *n = &sc->nodes[i];
		struct est_node *e = &en[i];
		e->eh_on = n->kind == SIM_NODE_SERVER || n->kind == SIM_NODE_L7LB || e->reusable;
		if (n->kind == SIM_NODE_NAT || n->kind == SIM_NODE_L4LB) {
			struct natgw_cfg gc;
			bool gw = false;
			char gerr[256];
			if (n->kind == SIM_NODE_NAT &&
			    sim_gateway_cfg(sc, n, &gc, &gw, gerr, sizeof(gerr)) < 0)
				return -EINVAL;
			/* a cloud gateway: per address and destination (at most every accepting
			 * address and port of the scenario) a held-port bitmap and up to one
			 * cool-down entry (16 bytes) per port, doubled while it grows */
			double gdests = 0;
			for (int j = 0; gw && j < nn; j++)
				gdests += sc->nodes[j].kind == SIM_NODE_SERVER ||
						  sc->nodes[j].kind == SIM_NODE_L7LB
					      ? (double)sc->nodes[j].ips * sc->nodes[j].ports
					  : sc->nodes[j].kind == SIM_NODE_L4LB ? sc->nodes[j].ips
									       : 0;
			hostb[i] =
			    gw ? (double)gc.ips * gdests *
				     ((gc.ports_per_ip + 63) / 64 * 8 + gc.ports_per_ip * 32.0)
			       : (double)n->ips * 65536 * sizeof(int64_t);
			continue;
		}
		est->nhosts += (uint64_t)e->hosts;
		hostb[i] = e->hosts * (sizeof(struct sim_thost) + 8 * MEM_MALLOC);
		if (n->kind == SIM_NODE_SERVER)
			continue;
		/* a connecting node */
		const struct sim_node *t = &sc->nodes[e->target];
		int64_t at[TW_SYN_MAX_TRIES], fail = 0;
		double life =
		    (double)(n->rtt_ns + (int64_t)n->requests * (n->rtt_ns + t->service_ns) +
			     n->idle_ns) /
		    1e9;
		int nre = tw_syn_schedule(e->p, n->syn_retries, at, &fail);
		double retry = e->drops == DROP_ALL  ? (double)fail / 1e9
			       : e->drops == DROP_TW ? dmin((double)fail / 1e9, TW_LIFE_S)
			       : e->drops == DROP_ONCE && nre > 0 ? (double)at[0] / 1e9
								  : 0;
		double ports =
		    e->hosts * e->dests * e->span; /* a live connecting socket holds one */
		double per_host_dests = dmin(e->dests, e->rate / e->hosts * dur_s + 1);
		e->live = dmin(arrivals(e->rate, dmin(life + retry, dur_s)), ports);
		live += e->live;
		pool += e->live * (e->eh_on ? 2 : 1); /* the accepting end; the connecting one too
						       * where its host keeps an ehash */
		heap += e->drops ? e->live : 0;
		hostb[i] +=
		    e->hosts *
		    (per_host_dests * (MEM_HELD + MEM_MALLOC) +
		     (double)grown((uint64_t)per_host_dests, 4, sizeof(struct sim_dest)) * 1.5);
		if (!n->bind_port) {
			double pt = tw_portsel_table_size(e->p) * 4.0 + MEM_MALLOC;
			if (pt >= MEM_MMAP)
				pt = ceil(pt / 4096) * 4096;
			hostb[i] += e->hosts * pt;
		}
		/* a client host whose connects can take more than its core (a failing walk of the
		 * whole range at its rate) queues them: the backlog ring (engine.c) */
		if (n->kind == SIM_NODE_CLIENT &&
		    e->rate / e->hosts *
			    (double)tw_connect_cost_ns(e->span, n->connect_probe_ns,
						       n->connect_base_ns) >=
			1e9)
			hostb[i] +=
			    e->hosts * ((double)SIM_BACKLOG_MAX * sizeof(int64_t) + MEM_MALLOC);
		/* TIME-WAIT: the closer holds one per close for up to 60 s */
		double tws = n->linger0 ? 0 : arrivals(e->rate, dmin(TW_LIFE_S, dur_s));
		if (n->closes == SIM_CLOSES_CLIENT) {
			/* without reuse nothing kills a client's TIME-WAIT: it keeps its port
			 * and counts toward tcp_max_tw_buckets (overflow frees the socket) */
			if (!e->reusable)
				tws = dmin(tws,
					   e->hosts * dmin(n->max_tw_buckets, e->dests * e->span));
			e->tw += tws;
			e->entries += e->eh_on ? tws : 0;
			if (e->eh_on)
				e->pages += dmin(tws, e->hosts * e->dests * (e->span / 16 + 2));
		} else {
			en[e->target].tw += tws;
			en[e->target].entries += tws;
		}
		tw += tws;
		if (e->eh_on)
			e->entries += e->live;
		en[e->target].entries += e->live;
		/* pages on the accepting host: per source address it sees (the last rewriting
		 * hop's, else each host's) a page per 16 ports of one parity of the source
		 * ports it can use (a rewriting hop: any) */
		double srcs = e->last_hop >= 0 ? sc->nodes[e->last_hop].ips : e->hosts * n->ips;
		double per_src = e->xlated ? 4096 : dmin(4096, e->span / 16 + 2);
		en[e->target].pages += srcs * t->ips * t->ports * per_src;
		if (e->eh_on)
			e->pages += e->hosts * e->dests * (e->span / 16 + 2);
		/* a tw_recycle cache entry per peer address (§4.1) on the target: 16 bytes,
		 * doubled, and its share of a half-full hash bucket */
		if (sc->nodes[e->target].tw_recycle)
			hostb[e->target] += srcs * (2 * sizeof(struct sim_peer) +
						    3 * sizeof(struct sim_eh_bkt) / SIM_EH_LANES);
	}
	/* the ehash of each node, spread over its hosts; its bytes go to the open connections
	 * and the TIME-WAITs in proportion */
	double pt_live = 0, pt_tw = 0;
	for (int i = 0; i < nn; i++) {
		struct est_node *e = &en[i];
		if (!e->p || !e->eh_on || e->entries < 1)
			continue;
		double h = e->hosts, b;
		b = h * (double)pt_bytes((uint64_t)ceil(e->entries / h),
					 (uint64_t)ceil(dmin(e->pages, e->entries) / h));
		double share = dmin(e->tw / e->entries, 1); /* its TIME-WAITs' part */
		pt_tw += b * share;
		pt_live += b * (1 - share);
	}
	/* pools: sockets (open ends and TIME-WAITs), connections, FIFOs, the SYN heap */
	double socks = (double)grown((uint64_t)(pool + tw), 4096, sizeof(struct sim_sock));
	double tw_share = pool + tw > 0 ? tw / (pool + tw) : 0;
	est->live_max = (uint64_t)live;
	est->tw_max = (uint64_t)tw;
	est->conns = (uint64_t)(socks * (1 - tw_share) + pt_live +
				(double)grown((uint64_t)live, 1024, sizeof(struct sim_conn)) +
				(double)grown((uint64_t)heap, 256, sizeof(struct sim_ev)) * 1.5);
	est->time_wait = (uint64_t)(socks * tw_share + pt_tw +
				    (double)grown((uint64_t)tw, 1024, sizeof(uint32_t)));
	for (int i = 0; i < nn; i++) {
		est->hosts += (uint64_t)hostb[i];
		if (est->host_node < 0 || hostb[i] > hostb[est->host_node])
			est->host_node = i;
		if (en[i].p && sc->nodes[i].kind != SIM_NODE_SERVER &&
		    (est->live_node < 0 || en[i].live > en[est->live_node].live))
			est->live_node = i;
	}
	/* the node whose traffic leaves the most TIME-WAITs, wherever they are held */
	double best = -1;
	for (int i = 0; i < nn; i++) {
		const struct sim_node *n = &sc->nodes[i];
		if (!en[i].p || n->kind == SIM_NODE_SERVER || n->linger0)
			continue;
		double x = n->closes == SIM_CLOSES_CLIENT ? en[i].tw : en[i].rate;
		if (x > best) {
			best = x;
			est->tw_node = i;
		}
	}
	if (!cfg->no_series) {
		int64_t step = cfg->sample_ns > 0 ? cfg->sample_ns : 1000000000LL;
		uint64_t rows = (uint64_t)(sc->duration_ns / step) + 1;
		est->series = (uint64_t)nn * (grown(rows, 64, sizeof(double)) +
					      grown(rows, 64, MEM_SERIES_COLS * sizeof(double)));
	}
	est->base =
	    MEM_BASE + sizeof(struct sim_eng) + (uint64_t)nn * sizeof(struct sim_host_result);
	/* and 1/16 of it for what is not modelled (allocator rounding and fragmentation, the
	 * arrays' growth peaks coinciding): a fleet of 2,000 hosts measured 1.5% below the
	 * sum without it */
	est->total = est->base + est->hosts + est->conns + est->time_wait + est->series;
	est->total += est->total / 16;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: twkit sim [OPTIONS] SCENARIO\n"
		   "Simulate the kernel's TIME-WAIT machinery on a scenario: a built-in name\n"
		   "(twkit sim --list) or an INI file (docs/scenarios.md).\n\n");
	opt_print_help(f, specs, NSPECS);
	fprintf(f, "\nexamples:\n"
		   "  twkit sim stress-client\n"
		   "  twkit sim stress-client --set loadgen.tw_reuse=1 --kernel 4.19\n"
		   "  twkit sim nat-recycle --explain\n"
		   "  twkit sim nat-gw-gcp --explain --set cloud-nat.ports_per_host=256\n"
		   "  twkit sim lb-quadruplets --json | jq .summary\n"
		   "  twkit sim tw-memory --svg tw.svg --host web\n"
		   "  twkit sim stress-client --kernel 2.6.32,4.10,6.18 --svg eras.svg\n");
}

static void progress(void *arg, int64_t now, int64_t end)
{
	(void)arg;
	fprintf(stderr, "\rsim: %llds / %llds simulated", (long long)(now / 1000000000),
		(long long)(end / 1000000000));
	if (now >= end)
		fprintf(stderr, "\r%40s\r", "");
}

/* A quarter of the machine's memory: room for the rest of what runs there. */
static uint64_t default_max_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || psz <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)psz / 4;
}

/* What to change when the estimate is over the limit: the largest part, and its node. */
static void mem_advice(FILE *f, const struct sim_scenario *sc, const struct sim_mem_estimate *m)
{
	char a[32];
	uint64_t worst = m->hosts;
	int what = 0;
	if (m->conns > worst)
		worst = m->conns, what = 1;
	if (m->time_wait > worst)
		worst = m->time_wait, what = 2;
	if (m->series > worst)
		what = 3;
	if (what == 0 && m->host_node >= 0) {
		const struct sim_node *n = &sc->nodes[m->host_node];
		if (n->kind == SIM_NODE_NAT || n->kind == SIM_NODE_L4LB)
			fprintf(f,
				"  to fit: lower %s.ips (each public address keeps 64Ki port "
				"timers, 512 KiB)",
				n->name);
		else
			fprintf(f,
				"  to fit: lower %s.count (%s hosts, each with the era's port "
				"search table (§3.2) and 8 KiB per destination: its ips x the "
				"target's ips x ports)",
				n->name, units_fmt_count(a, sizeof(a), n->count));
	} else if (what == 1 && m->live_node >= 0) {
		fprintf(f,
			"  to fit: lower the rate behind %s, or how long its connections stay "
			"open (requests, rtt, service_time; SYNs retried keep theirs open)",
			sc->nodes[m->live_node].name);
	} else if (what == 2 && m->tw_node >= 0) {
		fprintf(f,
			"  to fit: lower the rate behind %s: its closes leave up to rate x 60 s "
			"TIME-WAITs (%s records), or the closer's max_tw_buckets",
			sc->nodes[m->tw_node].name, units_fmt_count(a, sizeof(a), m->tw_max));
	} else {
		fprintf(f, "  to fit: --json --no-series (the text report keeps no series), or a "
			   "shorter --duration");
	}
	fprintf(f, "; or raise --max-memory\n");
}

/* Refuse a run whose estimate is over the limit: -E2BIG after saying so. */
static int mem_check(const struct sim_config *cfg, const struct sim_opts *o,
		     struct sim_mem_estimate *m)
{
	char t[32], l[32], h[32], c[32], w[32], s[32], tw[32], twn[32], se[32];
	if (sim_mem_estimate(cfg, m) < 0)
		return -EINVAL;
	if (!o->max_mem || m->total <= o->max_mem)
		return 0;
	fprintf(stderr,
		"twkit sim: %s: the run would need about %s of memory (estimated before "
		"running), above --max-memory %s%s\n"
		"  hosts %s (%s TCP hosts), open connections %s (up to %s), TIME-WAIT %s (up to "
		"%s records), series %s\n",
		cfg->sc->file, units_fmt_bytes(t, sizeof(t), m->total),
		units_fmt_bytes(l, sizeof(l), o->max_mem),
		o->max_mem_default ? " (a quarter of this machine's memory)" : "",
		units_fmt_bytes(h, sizeof(h), m->hosts), units_fmt_count(s, sizeof(s), m->nhosts),
		units_fmt_bytes(c, sizeof(c), m->conns), units_fmt_count(w, sizeof(w), m->live_max),
		units_fmt_bytes(tw, sizeof(tw), m->time_wait),
		units_fmt_count(twn, sizeof(twn), m->tw_max),
		units_fmt_bytes(se, sizeof(se), m->series));
	mem_advice(stderr, cfg->sc, m);
	return -E2BIG;
}

/* --kernel A[,B...]: each entry an era (model/profile.c decides), at most SIM_MAX_ERAS, none
 * twice; an in-between version is said on stderr with the era it runs as. 0 or -EINVAL. */
static int parse_eras(const char *v, const char *release, struct sim_opts *o, char *err, size_t len)
{
	const char *p = v;
	char msg[512];

	o->neras = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const struct tw_profile *pr;
		char name[SIM_NAME_LEN];

		if (n >= sizeof(name)) {
			snprintf(err, len, "--kernel: '%.40s...' is not a kernel era", p);
			return -EINVAL;
		}
		memcpy(name, p, n);
		name[n] = 0;
		if (tw_profile_resolve(name, release, &pr, msg, sizeof(msg)) < 0) {
			snprintf(err, len, "--kernel: %.480s", msg);
			return -EINVAL;
		}
		for (int e = 0; e < o->neras; e++)
			if (!strcmp(o->eras[e], name)) {
				snprintf(err, len, "--kernel: '%s' is listed twice", name);
				return -EINVAL;
			}
		if (o->neras == SIM_MAX_ERAS) {
			snprintf(err, len,
				 "--kernel: at most %d eras in one run (one chart keeps %d "
				 "lines apart)",
				 SIM_MAX_ERAS, SIM_MAX_ERAS);
			return -EINVAL;
		}
		if (msg[0])
			fprintf(stderr, "twkit sim: --kernel %s\n", msg);
		snprintf(o->eras[o->neras++], SIM_NAME_LEN, "%s", name);
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* The scenario, then what the command line changes in it: --set, --kernel, --duration,
 * --seed (in this order: --duration and --seed win over --set sim.duration, sim.seed). */
static int load(struct sim_opts *o, struct sim_scenario *sc, const char *release)
{
	char err[512];
	int rc;
	if (sim_scenario_arg_is_file(o->scen, sim_builtin_text(o->scen) != NULL))
		rc = sim_scenario_load_file(o->scen, sc, err, sizeof(err));
	else
		rc = sim_scenario_load_builtin(o->scen, sc, err, sizeof(err));
	if (rc < 0)
		goto bad;
	if (o->set && (rc = sim_scenario_set_lines(sc, o->set, err, sizeof(err))) < 0) {
		if (rc == -ENOMEM)
			return rc;
		goto bad;
	}
	if (o->kernel) {
		if (parse_eras(o->kernel, release, o, err, sizeof(err)) < 0)
			goto bad;
		snprintf(sc->kernel, sizeof(sc->kernel), "%s", o->eras[0]);
		for (int i = 0; i < sc->nnodes; i++)
			sc->nodes[i].kernel[0] = 0;
	}
	if (o->duration_ns) /* opt_apply checked it: 1s to 7d */
		sc->duration_ns = o->duration_ns;
	if (o->seed) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(o->seed, &end, 10);
		if (errno || *end || !*o->seed || *o->seed == '-') {
			snprintf(err, sizeof(err), "--seed '%.40s': expected an unsigned integer",
				 o->seed);
			goto bad;
		}
		sc->seed = s;
	}
	rc = sim_scenario_check(sc, release, err, sizeof(err));
	if (rc < 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "twkit sim: %s\n", err);
	return -EINVAL;
}

/* --svg: the plot of one run (host -1: the hosts where something changes). 0 or -errno. */
static int save_plot(const struct sim_opts *o, const struct sim_scenario *sc, struct sim_result *r,
		     const char *release, int host)
{
	struct plot *p = malloc(sizeof(*p));
	char title[160];
	int e;

	if (!p)
		return -ENOMEM;
	snprintf(title, sizeof(title), "twkit sim %s%s%s", sc->name, host >= 0 ? ": " : "",
		 host >= 0 ? r->hosts[host].name : "");
	plot_init(p, title);
	sim_plot_run(sc, r, release, host, p);
	e = plot_save(p, o->svg);
	if (e < 0)
		fprintf(stderr, "twkit sim: --svg %s: %s\n", o->svg, strerror(-e));
	free(p);
	return e;
}

/*
 * --kernel A,B,C: the scenario once per era, every host on it, each checked against
 * --max-memory on its own (the runs follow each other; their results are kept for the
 * side-by-side report, without series unless --json or --svg wants them). An exit code.
 */
static int run_eras(const struct sim_opts *o, const struct sim_scenario *base, const char *release,
		    int hi)
{
	struct sim_scenario *scs = calloc((size_t)o->neras, sizeof(*scs));
	struct sim_result *rs = calloc((size_t)o->neras, sizeof(*rs));
	const struct sim_scenario *csc[SIM_MAX_ERAS];
	const struct sim_result *crs[SIM_MAX_ERAS];
	struct sim_result *mrs[SIM_MAX_ERAS];
	struct sim_mem_estimate mest;
	char err[512];
	int rc = TWKIT_EXIT_OK, ran = 0;

	if (!scs || !rs) {
		rc = TWKIT_EXIT_RUNTIME;
		fprintf(stderr, "twkit sim: %s\n", strerror(ENOMEM));
		goto out;
	}
	for (int e = 0; e < o->neras; e++) {
		struct sim_config cfg = {0};
		int x;

		scs[e] = *base;
		snprintf(scs[e].kernel, sizeof(scs[e].kernel), "%s", o->eras[e]);
		if (sim_scenario_check(&scs[e], release, err, sizeof(err)) < 0) {
			fprintf(stderr, "twkit sim: kernel %s: %s\n", o->eras[e], err);
			rc = TWKIT_EXIT_USAGE;
			goto out;
		}
		cfg.sc = &scs[e];
		cfg.host_release = release;
		cfg.no_series = o->json ? o->no_series : !o->svg;
		if (mem_check(&cfg, o, &mest) < 0) {
			rc = TWKIT_EXIT_USAGE;
			goto out;
		}
		if (o->explain && !o->json && e == 0) {
			const char *x2 = sim_builtin_explain(base->name);
			printf("%s\n\n", x2 ? x2 : "A scenario file: no built-in explanation.");
		}
		if (o->explain && !o->json) {
			printf("kernel %s: ", o->eras[e]);
			sim_explain_budgets(stdout, &scs[e], release);
		}
		x = sim_run(&cfg, &rs[e]);
		ran = e + 1;
		if (x < 0) {
			fprintf(stderr, "twkit sim: kernel %s: %s\n", o->eras[e], strerror(-x));
			rc = x == -EINVAL ? TWKIT_EXIT_USAGE : TWKIT_EXIT_RUNTIME;
			goto out;
		}
		csc[e] = &scs[e];
		crs[e] = mrs[e] = &rs[e];
	}
	if (o->json)
		sim_report_eras_json(stdout, csc, crs, o->neras, !o->no_series);
	else
		sim_report_eras_text(stdout, csc, crs, o->neras);
	if (o->svg) {
		struct plot *p = malloc(sizeof(*p));
		char title[160];
		int e;

		if (!p) {
			rc = TWKIT_EXIT_RUNTIME;
			goto out;
		}
		snprintf(title, sizeof(title), "twkit sim %s: %s on %d kernel eras", base->name,
			 rs[0].hosts[hi].name, o->neras);
		plot_init(p, title);
		sim_plot_eras(csc, mrs, o->neras, release, hi, p);
		e = plot_save(p, o->svg);
		free(p);
		if (e < 0) {
			fprintf(stderr, "twkit sim: --svg %s: %s\n", o->svg, strerror(-e));
			rc = TWKIT_EXIT_RUNTIME;
		}
	}
out:
	for (int e = 0; rs && e < ran; e++)
		sim_result_fini(&rs[e]);
	free(rs);
	free(scs);
	return rc;
}

static void print_ini(const struct sim_scenario *sc)
{
	const char *t = sim_builtin_text(sc->name);
	if (t && !strncmp(sc->file, "builtin:", 8))
		fputs(t, stdout);
	else
		printf("; %s is a file scenario: see the file itself\n", sc->file);
}

int sim_main(int argc, char **argv)
{
	struct opt_result res;
	struct sim_opts o = {0};
	struct sim_scenario sc;
	struct sim_result r;
	struct sim_config cfg = {0};
	struct utsname u;
	struct sim_mem_estimate mest;
	const char *release = uname(&u) == 0 ? u.release : NULL;
	uint64_t dflt_mem = default_max_memory();
	char err[512];
	int rc = TWKIT_EXIT_OK, hi = -1;

	memset(&r, 0, sizeof(r));
	if (opt_parse(specs, NSPECS, argc, argv, 1, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "twkit sim: %s\n", err);
		usage(stderr);
		return TWKIT_EXIT_USAGE;
	}
	/* the actions alone first: --help and the lists answer whatever else is given */
	if (opt_apply(specs, NACTIONS, &res, &o, err, sizeof(err)) < 0)
		goto bad_opt;
	if (o.help) {
		usage(stdout);
		goto out;
	}
	if (o.list) {
		for (int i = 0; i < sim_builtin_count(); i++)
			printf("%-16s %s\n", sim_builtin_name(i), sim_builtin_summary(i));
		goto out;
	}
	if (o.list_kernels) {
		for (int i = 0; i < tw_profile_count(); i++)
			printf("%s\n", tw_profile_at(i)->name);
		printf("host (this machine: %s -> %s)\n", release ? release : "?",
		       tw_profile_by_name("host", release)
			   ? tw_profile_by_name("host", release)->name
			   : "?");
		goto out;
	}
	if (res.npos != 1) {
		fprintf(stderr, "twkit sim: expected one SCENARIO (a built-in name or a file)\n");
		usage(stderr);
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	o.scen = res.pos[0];
	o.max_mem = dflt_mem; /* --max-memory, when given, replaces it */
	if (opt_apply(specs, NSPECS, &res, &o, err, sizeof(err)) < 0)
		goto bad_opt;
	/* said when the limit is the default's value, given or not */
	o.max_mem_default = o.max_mem == dflt_mem;
	if (o.json && o.csv) {
		fprintf(stderr, "twkit sim: --json and --csv both write stdout: pick one\n");
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (o.show && (o.svg || o.csv || o.json)) {
		fprintf(stderr,
			"twkit sim: --show prints the scenario and runs nothing: --json, --csv "
			"and --svg do not apply\n");
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (o.svg) { /* a bad path fails now, not after the run */
		char pwhy[160];
		if (outpath_check(o.svg, 0, pwhy, sizeof(pwhy)) < 0) {
			fprintf(stderr, "twkit sim: --svg '%s': %s\n", o.svg, pwhy);
			rc = TWKIT_EXIT_USAGE;
			goto out;
		}
	}
	if (load(&o, &sc, release) < 0) {
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (o.neras > 1 && o.csv) {
		fprintf(stderr,
			"twkit sim: --csv writes one era's series; with --kernel %s use "
			"--json (every era's series) or run one era at a time\n",
			o.kernel);
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	/* one host for --csv, --host and the eras' chart; without --host, --svg of one era
	 * shows every host where something changes */
	bool one_host = o.csv || o.host || (o.svg && o.neras > 1);
	for (int i = 0; i < sc.nnodes && one_host; i++) {
		if (o.host ? !strcmp(sc.nodes[i].name, o.host)
			   : (hi < 0 && sc.nodes[i].kind == SIM_NODE_CLIENT))
			hi = i;
	}
	if (one_host && hi < 0) {
		if (o.host)
			fprintf(stderr, "twkit sim: --host '%s': no such section\n", o.host);
		else
			fprintf(stderr,
				"twkit sim: %s has no client section: name one with --host\n",
				sc.name);
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (o.show) {
		print_ini(&sc);
		goto out;
	}
	if (o.neras > 1) {
		rc = run_eras(&o, &sc, release, hi);
		goto out;
	}
	cfg.sc = &sc;
	cfg.host_release = release;
	/* the text report reads no series: keep none (the same numbers, less memory) */
	cfg.no_series =
	    (o.json ? o.no_series : !o.csv) && !o.svg; /* --svg plots one whatever --json says */
	if (mem_check(&cfg, &o, &mest) < 0) {
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (o.explain && !o.json && !o.csv) {
		const char *x = sim_builtin_explain(sc.name);
		char a[32], b[32], c[32], d[32], l[32];
		printf("%s\n\n", x ? x
				   : "A scenario file: no built-in explanation; the counters "
				     "below name the kernel mechanisms at work.");
		sim_explain_budgets(stdout, &sc, release);
		sim_explain_gateways(stdout, &sc);
		printf("Memory: at most about %s (estimated before the run: %s TCP hosts, up to %s "
		       "open connections and %s TIME-WAIT records), under --max-memory %s.\n\n",
		       units_fmt_bytes(a, sizeof(a), mest.total),
		       units_fmt_count(b, sizeof(b), mest.nhosts),
		       units_fmt_count(c, sizeof(c), mest.live_max),
		       units_fmt_count(d, sizeof(d), mest.tw_max),
		       o.max_mem ? units_fmt_bytes(l, sizeof(l), o.max_mem) : "(no limit)");
	}
	if (!o.quiet && isatty(STDERR_FILENO) && sc.duration_ns >= 30 * 1000000000LL)
		cfg.progress = progress;
	int e = sim_run(&cfg, &r);
	if (e < 0) {
		fprintf(stderr, "twkit sim: %s\n", strerror(-e));
		rc = e == -EINVAL ? TWKIT_EXIT_USAGE : TWKIT_EXIT_RUNTIME;
		goto out;
	}
	if (o.json)
		sim_report_json(stdout, &sc, &r, !o.no_series);
	else if (o.csv)
		e = series_write_csv(&r.hosts[hi].series, stdout);
	else
		sim_report_text(stdout, &sc, &r);
	if (!e && o.svg)
		e = save_plot(&o, &sc, &r, release, o.host ? hi : -1);
	if (e < 0)
		rc = TWKIT_EXIT_RUNTIME;
out:
	sim_result_fini(&r);
	opt_result_fini(&res);
	return rc;
bad_opt:
	fprintf(stderr, "twkit sim: %s\n", err);
	rc = TWKIT_EXIT_USAGE;
	goto out;
}
