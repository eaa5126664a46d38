/*
 * lab_scen — the lab catalogue (shortest forms of the sim scenarios) and the plan derived
 * from a scenario (see lab_scen.h).
 * A catalogue entry is data: the sim built-in it starts from, its nodes renamed to the lab's
 * host names by kind, then two overlays of sim's --set lines (SECTION.KEY=VALUE, parsed by
 * sim's own key table): LAB_OVERLAY, common to every entry, and the entry's own.
 * Invariant: every number a test asserts on follows from the few constants below:
 * LAB_PORTS ports at LAB_RATE connections/s spend the budget after LAB_PORTS/LAB_RATE s.
 */
#include "lab/lab_scen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "model/portsearch.h"
#include "model/reuse.h"
#include "model/timewait.h"

/* The constants, as the overlays write them. */
/* A 1,000-port budget (40000-40999: lo even, hi odd, so every port is visited by the
 * parity-split search of §3.2 and the budget is exactly 1,000). */
#define LAB_PORT_LO "40000"
#define LAB_PORT_HI "40999"
/* 100/s spends 1,000 ports in 10 s: far from 0 so a ±10% comparison means ±1 s, yet a run
 * stays at 16 s. */
#define LAB_RATE "100/s"
#define LAB_DURATION "16s"
/* server-close-one-remote: three times the "ceiling" doctor used to draw for one remote
 * address (28,232 default client ports / 60 s = 470/s), so that the server holds more
 * TIME-WAITs from it than that ceiling allowed, and 24,000 connections in 16 s come back to
 * the same 14,116 even ports (§3.2) after ~9.4 s */
#define LAB_RATE_ONE_REMOTE "1500/s"
/* bucket-overflow: a limit well under rate x 60 (§1.4) that is reached in 5 s */
#define LAB_TW_BUCKETS "500"
/* connect-cost-*: connect()'s kernel CPU at three occupancies of a narrow range (model/
 * portsearch.h). tcp_tw_reuse=1 (timestamps on): a TIME-WAIT is taken over once older than
 * tcp_tw_reuse_delay (1 s, §2.2), so about rate x 1 s ports are held young at once, and the
 * range's size sets the share: 1,000/s over 10,000 ports (about 10%), 2,800 (about 36%:
 * 71% of the first parity), 1,400 (about 71%: the first parity all young, then the other).
 * None sits near where rate x delay equals a parity's size: there a few ms of difference in
 * when a TIME-WAIT starts flips which pass finds a port. 2,400 ports (83% of the first
 * parity young) was too near: the kernel walked further there than the model (connect()'s
 * p50 3 us above the low run's, ru_stime 8-10 us, where the model says 0.4; docs/kernel.md),
 * and the model itself jumps from 3.6 to 170 ports a connect if TIME-WAITs start 20% later.
 * At 2,800 it stays at 2.5-3.6 over that spread. 1,000 connections/s keep the client's CPU well
 * above the 4 ms tick its ru_stime is sampled with. */
#define LAB_COST_RATE "1000/s"
#define LAB_COST_LOW_HI "49999"
#define LAB_COST_HALF_HI "42799"
#define LAB_COST_FULL_HI "41399"
/* veth round trip inside one machine: tens of microseconds */
#define LAB_RTT "100us"

/* What every entry sets over its built-in: the lab's differences from sim's defaults
 * (sim_node_defaults) and from the built-ins' long forms. The kernel is this machine's; one
 * client host; tcp_tw_reuse 0 (§2.2: the 4.19+ default 2 is loopback-only; 0 says it
 * plainly); the veth's round trip. An entry's own lines come after these. */
#define LAB_OVERLAY                                                                                \
	"sim.kernel=host\n"                                                                        \
	"sim.duration=" LAB_DURATION "\n"                                                          \
	"client.count=1\n"                                                                         \
	"client.rate=" LAB_RATE "\n"                                                               \
	"client.tw_reuse=0\n"                                                                      \
	"client.rtt=" LAB_RTT "\n"

/* the client's 1,000-port budget */
#define NARROW "client.port_range=" LAB_PORT_LO "-" LAB_PORT_HI "\n"
/* an L7 balancer connects too: the veth's round trip */
#define LB_RTT "lb.rtt=" LAB_RTT "\n"
#define COST(hi)                                                                                   \
	"client.tw_reuse=1\nclient.rate=" LAB_COST_RATE "\n"                                       \
	"client.port_range=" LAB_PORT_LO "-" hi "\n"

/*
 * The catalogue. overlay: one line each, either sim's --set SECTION.KEY=VALUE over the host
 * names below, or "[KIND NAME]": NAME becomes a node of KIND with sim's defaults, in its
 * place when it exists, else before the last node (the server), whose via lines follow.
 */
static const struct lab_entry catalog[] = {
    {.name = "stress-client",
     .sim_name = "stress-client",
     .summary = "client closes first above its 1,000-port budget: EADDRNOTAVAIL after about "
		"10 s, TIME-WAIT about 1,000 on the client",
     .overlay = NARROW},
    {.name = "stress-client-server-close",
     .sim_name = "stress-client",
     .summary = "the server closes first: TIME-WAIT moves to the server, no failures",
     .overlay = NARROW "client.closes=server\n"},
    {.name = "stress-client-wide",
     .sim_name = "stress-client",
     .summary = "the same churn with the default port range: 1,600 of 28,232 ports, nothing "
		"to report (the healthy twin of narrow-port-range and port-exhaustion)",
     .overlay = ""},
    {.name = "server-close-one-remote",
     .sim_name = "stress-client",
     .summary = "one client address at 1,500/s, 3x the old 'quadruplet ceiling' (28,232 "
		"ports / 60 s), the server closes first: its TIME-WAITs from that address "
		"reach 14,116 (connect()'s even ports), half the ceiling, and every SYN after "
		"that reopens one (spec 5.1): no failures, no critical",
     /* the era's default range: the one doctor assumes for a remote */
     .overlay = "client.closes=server\nclient.rate=" LAB_RATE_ONE_REMOTE "\n"},
    {.name = "lb-server-close",
     .sim_name = "lb-quadruplets",
     .summary = "an L7 balancer with one address, the server closes first, 1,500/s (3x the "
		"old 'quadruplet ceiling' of 28,232 ports / 60 s): the server's TIME-WAITs "
		"from the balancer are reopened by its SYNs (spec 5.1), no failures",
     /* the relay carries the close mark through */
     .overlay = "client.closes=server\nclient.rate=" LAB_RATE_ONE_REMOTE "\n"
		"lb.closes=server\nlb.tw_reuse=0\n" LB_RTT},
    {.name = "stress-client-linger0",
     .sim_name = "stress-client",
     .summary = "the client closes with SO_LINGER 0: RST, no TIME-WAIT, no failures",
     .overlay = NARROW "client.linger0=yes\n"},
    {.name = "stress-client-4ips",
     .sim_name = "stress-client",
     .summary = "4 source addresses: a 4,000-port budget, no failures in the run",
     .overlay = NARROW "client.ips=4\n"},
    {.name = "stress-client-nat",
     .sim_name = "stress-client",
     .summary = "the same client behind a NAT gateway (masquerade): the client's budget "
		"still rules",
     .overlay = NARROW "[nat nat]\nnat.via=server\nclient.via=nat\n"},
    {.name = "tw-reuse-client",
     .sim_name = "tw-reuse-client",
     .summary = "tcp_tw_reuse=1 with timestamps: no failures far above the budget",
     .overlay = NARROW "client.tw_reuse=1\n"},
    {.name = "lb-quadruplets",
     .sim_name = "lb-quadruplets",
     .summary = "L7 balancer with one IP and 1,000 ports toward one server port: the "
		"balancer fails with EADDRNOTAVAIL after about 10 s (ceiling range/60 per "
		"balancer IP)",
     /* the client is not the bottleneck here: it keeps the default range */
     .overlay = "lb.tw_reuse=0\nlb.port_range=" LAB_PORT_LO "-" LAB_PORT_HI "\n" LB_RTT},
    {.name = "slb-strips-ts",
     .sim_name = "slb-strips-ts",
     .summary = "tcp_tw_reuse=1 on the client, but the L7 balancer runs tcp_timestamps=0: "
		"reuse does nothing, EADDRNOTAVAIL after about 10 s",
     /* the built-in's balancer keeps timestamps = 0 (§6: no option on its side of the
      * handshake); its client's tw_recycle = 1 needs a kernel before 4.12 */
     .overlay = NARROW "client.tw_recycle=0\nclient.tw_reuse=1\n" LB_RTT},
    {.name = "slb-strips-ts-l4",
     .sim_name = "slb-strips-ts",
     .summary = "the same behind an L4 balancer that strips the timestamp option (nftables)",
     /* conntrack's own hold of a closed flow's tuple, not an l4lb's default 0 */
     .overlay = NARROW "client.tw_recycle=0\nclient.tw_reuse=1\n"
		       "[l4lb lb]\nlb.via=server\nlb.strip_timestamps=yes\n"
		       "lb.mapping_timeout=120s\n"},
    {.name = "bucket-overflow",
     .sim_name = "bucket-overflow",
     .summary = "tcp_max_tw_buckets=500 below rate x 60: TIME-WAIT flat at 500, "
		"TCPTimeWaitOverflow rises",
     /* the client keeps the TIME-WAITs here, with the default range; the server gets the
      * default limit back (the built-in's 5000 is for its server-side form) */
     .overlay = "client.closes=client\nclient.max_tw_buckets=" LAB_TW_BUCKETS "\n"
		"server.max_tw_buckets=262144\n"},
    {.name = "connect-cost-low",
     .sim_name = "tw-reuse-client",
     .summary = "connect()'s kernel CPU with about 10% of a 10,000-port range held young "
		"(1,000/s, tcp_tw_reuse=1): about one port examined per connect; "
		"sys_us_per_conn checked against sim (±25%)",
     .overlay = COST(LAB_COST_LOW_HI),
     .checks_sys = true},
    {.name = "connect-cost-half",
     .sim_name = "tw-reuse-client",
     .summary = "the same 1,000/s over 2,800 ports: about 36% of the range held young, 71% "
		"of the first parity: two or three ports examined a connect, below the cliff "
		"where that parity fills; sys_us_per_conn checked (±25%)",
     .overlay = COST(LAB_COST_HALF_HI),
     .checks_sys = true},
    {.name = "connect-cost-full",
     .sim_name = "tw-reuse-client",
     .summary = "the same 1,000/s over 1,400 ports: about 71% held young, every connect "
		"walks the whole first parity before the other; sys_us_per_conn checked "
		"(±25%)",
     .overlay = COST(LAB_COST_FULL_HI),
     .checks_sys = true},
    {.name = "nat-recycle",
     .sim_name = "nat-recycle",
     .summary = "tcp_tw_recycle behind NAT",
     .unsupported = "tcp_tw_recycle was removed in Linux 4.12 (spec §4.5); this kernel "
		    "cannot show it: run `twkit sim nat-recycle`"},
    {.name = "random-offsets",
     .sim_name = "random-offsets",
     .summary = "4.10 random timestamp offsets vs tcp_tw_recycle",
     .unsupported = "needs a 4.10 client and a tcp_tw_recycle server (removed in 4.12, spec "
		    "§4.5, §6): run `twkit sim random-offsets`"},
    {.name = "tw-memory",
     .sim_name = "tw-memory",
     .summary = "600k TIME-WAIT and their memory",
     .unsupported = "600,000 TIME-WAIT need 60 s at 10k connections/s and a wide port "
		    "space, beyond the lab's 90 s, 1,000-port form: run `twkit sim "
		    "tw-memory`"},
};

#define NCATALOG ((int)(sizeof(catalog) / sizeof(catalog[0])))

/* The lab's host names by kind (tests and JSON select hosts by them): a built-in's nodes are
 * renamed to these, so a built-in the catalogue starts from has one node of each kind. */
static const char *const host_names[] = {
    [SIM_NODE_CLIENT] = "client", [SIM_NODE_NAT] = "nat",	[SIM_NODE_L4LB] = "lb",
    [SIM_NODE_L7LB] = "lb",	  [SIM_NODE_SERVER] = "server",
};

int lab_catalog_count(void)
{
	return NCATALOG;
}

bool lab_catalog_checks_sys(const struct lab_entry *e)
{
	return e && e->checks_sys;
}

const struct lab_entry *lab_catalog_at(int i)
{
	return i >= 0 && i < NCATALOG ? &catalog[i] : NULL;
}

const struct lab_entry *lab_catalog_find(const char *name)
{
	for (int i = 0; i < NCATALOG; i++)
		if (strcmp(catalog[i].name, name) == 0)
			return &catalog[i];
	return NULL;
}

const char *lab_catalog_common_overlay(void)
{
	return LAB_OVERLAY;
}

const char *lab_host_name(enum SIM_NODE_KIND kind)
{
	return (unsigned)kind < sizeof(host_names) / sizeof(host_names[0]) ? host_names[kind] : "?";
}

/* A name field (SIM_NAME_LEN bytes) set to s, the bytes after it zero. */
static void set_name(char *dst, const char *s)
{
	memset(dst, 0, SIM_NAME_LEN);
	snprintf(dst, SIM_NAME_LEN, "%s", s);
}

/* Every node of sc renamed to its kind's host name, and the vias with them. */
static int rename_hosts(struct sim_scenario *sc, char *err, size_t errlen)
{
	char was[SIM_MAX_NODES][SIM_NAME_LEN];

	for (int i = 0; i < sc->nnodes; i++) {
		memcpy(was[i], sc->nodes[i].name, SIM_NAME_LEN);
		for (int j = 0; j < i; j++)
			if (strcmp(lab_host_name(sc->nodes[j].kind),
				   lab_host_name(sc->nodes[i].kind)) == 0) {
				snprintf(err, errlen, "%s: '%s' and '%s' would both be host '%s'",
					 sc->file, was[j], was[i],
					 lab_host_name(sc->nodes[i].kind));
				return -EINVAL;
			}
	}
	for (int i = 0; i < sc->nnodes; i++) {
		set_name(sc->nodes[i].name, lab_host_name(sc->nodes[i].kind));
		for (int j = 0; j < sc->nnodes; j++)
			if (sc->nodes[i].via[0] && strcmp(sc->nodes[i].via, was[j]) == 0) {
				set_name(sc->nodes[i].via, lab_host_name(sc->nodes[j].kind));
				break;
			}
	}
	return 0;
}

/* An overlay's "[KIND NAME]" line: NAME becomes a node of KIND with sim's defaults, in its
 * place when it exists, else before the last node. */
static int overlay_section(struct sim_scenario *sc, const char *line)
{
	char kind[16], name[SIM_NAME_LEN], close;
	int k = 0, i = 0;

	if (sscanf(line, "[%15s %31[^]]%c", kind, name, &close) != 3 || close != ']')
		return -EINVAL;
	while (k <= SIM_NODE_SERVER && strcmp(lab_kind_name((enum SIM_NODE_KIND)k), kind) != 0)
		k++;
	if (k > SIM_NODE_SERVER)
		return -EINVAL;
	while (i < sc->nnodes && strcmp(sc->nodes[i].name, name) != 0)
		i++;
	if (i == sc->nnodes) {
		if (sc->nnodes == 0 || sc->nnodes == SIM_MAX_NODES)
			return -EINVAL;
		i = sc->nnodes++ - 1;
		memmove(&sc->nodes[i + 1], &sc->nodes[i], sizeof(sc->nodes[i]));
	}
	sim_node_defaults(&sc->nodes[i], (enum SIM_NODE_KIND)k);
	set_name(sc->nodes[i].name, name);
	return 0;
}

/* Apply each line of overlay to sc. */
static int apply_overlay(struct sim_scenario *sc, const char *overlay, char *err, size_t errlen)
{
	char line[200], why[256];

	for (const char *p = overlay; *p;) {
		size_t n = strcspn(p, "\n");
		int rc;

		if (n >= sizeof(line))
			return -EINVAL;
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n');
		why[0] = '\0';
		rc = line[0] == '[' ? overlay_section(sc, line)
				    : sim_scenario_set(sc, line, why, sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "%s: overlay line '%s': %s", sc->file, line,
				 why[0] ? why : "expected [KIND NAME]");
			return rc;
		}
	}
	return 0;
}

int lab_catalog_build(const struct lab_entry *e, struct sim_scenario *sc, char *err, size_t errlen)
{
	int rc;

	err[0] = '\0';
	if (!e)
		return -ENOENT;
	if (e->unsupported)
		return -EOPNOTSUPP;
	rc = sim_scenario_load_builtin(e->sim_name, sc, err, errlen);
	if (rc < 0)
		return rc;
	snprintf(sc->name, sizeof(sc->name), "%s", e->name);
	snprintf(sc->file, sizeof(sc->file), "lab:%s", e->name);
	rc = rename_hosts(sc, err, errlen);
	if (rc == 0)
		rc = apply_overlay(sc, LAB_OVERLAY, err, errlen);
	if (rc == 0)
		rc = apply_overlay(sc, e->overlay ? e->overlay : "", err, errlen);
	/* the lines are the built-in text's, which "lab:NAME" does not show */
	for (int i = 0; i < sc->nnodes; i++)
		sc->nodes[i].line = 0;
	return rc;
}

int lab_catalog_scenario(const char *name, struct sim_scenario *sc)
{
	char err[256];

	return lab_catalog_build(lab_catalog_find(name), sc, err, sizeof(err));
}

/* Each line of text on f as "#   LINE". */
static void comment_lines(FILE *f, const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		fprintf(f, "#   %.*s\n", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

int lab_catalog_show(FILE *f, const struct lab_entry *e)
{
	struct sim_scenario b, sc;
	char err[256];
	int rc = lab_catalog_build(e, &sc, err, sizeof(err));

	if (rc < 0)
		return rc;
	rc = sim_scenario_load_builtin(e->sim_name, &b, err, sizeof(err));
	if (rc < 0)
		return rc;
	fprintf(f, "# twkit lab %s: twkit sim %s, its nodes renamed (", e->name, e->sim_name);
	for (int i = 0; i < b.nnodes; i++)
		fprintf(f, "%s%s -> %s", i ? ", " : "", b.nodes[i].name,
			lab_host_name(b.nodes[i].kind));
	fprintf(f, "), then the lab's overlay:\n");
	comment_lines(f, LAB_OVERLAY);
	fprintf(f, "# and its own:\n");
	comment_lines(f, e->overlay && e->overlay[0] ? e->overlay : "(none)");
	return sim_scenario_write(f, &sc);
}

/* The plan: every key of every node on the path is built or refused (docs/lab.md "Scenario
 * files"). The kernel's defaults below are what a fresh namespace has; a scenario asking for
 * them gets no sysctl, so it is never refused, even on a kernel without that sysctl. */
/* tcp_tw_reuse_delay (6.14+; a fixed 1 s before it, §2.2) */
#define LAB_KERNEL_REUSE_DELAY_MS TW_REUSE_DELAY_DEFAULT_MS
/* tcp_rto_min_us (6.11+): TCP_RTO_MIN */
#define LAB_KERNEL_RTO_NS TW_RTO_MIN_NS
/* nf_conntrack_tcp_timeout_time_wait: how long conntrack keeps a closed flow's tuple */
#define LAB_KERNEL_CT_TIME_WAIT_NS (120LL * 1000000000LL)
/* An rtt up to this is what the veth pairs give anyway (a round trip of tens of µs): one
 * request's lifetime moves by under 1 ms, which no TIME-WAIT count or port budget shows. The
 * lab adds no delay (netem is not on every kernel), so a longer rtt is refused. */
#define LAB_RTT_VETH_MAX_NS 1000000LL

static const char *const kind_names[] = { "client", "nat", "l4lb", "l7lb", "server" };

const char *lab_kind_name(enum SIM_NODE_KIND kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

/* Refuse `key` of node n: err gets "[kind name] key = " and the formatted value and why. */
__attribute__((format(printf, 6, 7))) static int refuse(struct lab_plan *plan,
							const struct sim_node *n, const char *key,
							char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int off = snprintf(err, errlen, "[%s %s] %s = ", lab_kind_name(n->kind), n->name, key);

	if (off >= 0 && (size_t)off < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	plan->bad_key = key;
	snprintf(plan->bad_node, sizeof(plan->bad_node), "%s", n->name);
	return -EOPNOTSUPP;
}

/* Add one sysctl (value from fmt) to a host; shown NULL means the key reads as the value. */
__attribute__((format(printf, 6, 7))) static void set_sysctl(struct lab_host *h, const char *name,
							     const char *key, const char *since,
							     const char *shown, const char *fmt,
							     ...)
{
	struct lab_sysctl *s;
	va_list ap;

	if (h->nsysctl >= LAB_MAX_SYSCTL)
		return;
	s = &h->sysctl[h->nsysctl++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(s->value, sizeof(s->value), fmt, ap);
	va_end(ap);
	s->key = key;
	s->since = since;
	/* gcc's -Wrestrict cannot tell that shown never points into *s: copy in two steps */
	if (shown)
		snprintf(s->shown, sizeof(s->shown), "%s", shown);
	else
		memcpy(s->shown, s->value,
		       sizeof(s->shown) < sizeof(s->value) ? sizeof(s->shown) : sizeof(s->value));
	s->shown[sizeof(s->shown) - 1] = '\0';
}

/* The sysctls of a node that runs TCP (client, l7lb, server), or the refusal of a key no
 * kernel the lab runs on can build. */
static int tcp_sysctls(struct lab_plan *plan, const struct sim_node *n, struct lab_host *h,
		       char *err, size_t errlen)
{
	char shown[24];

	if (n->tw_recycle > 0)
		return refuse(plan, n, "tw_recycle", err, errlen,
			      "%d: tcp_tw_recycle was removed in Linux 4.12 (§4.5); no kernel the "
			      "lab runs on has it", n->tw_recycle);
	if (n->hz != 1000)
		return refuse(plan, n, "hz", err, errlen,
			      "%u: the TCP timestamp clock is 1 kHz on every kernel since 4.13 "
			      "(CONFIG_HZ, fixed at build time, before it, §5); it cannot be "
			      "changed at run time", n->hz);
	if (n->port_lo && n->port_hi) {
		snprintf(shown, sizeof(shown), "%u-%u", n->port_lo, n->port_hi);
		set_sysctl(h, "net.ipv4.ip_local_port_range", "port_range", NULL, shown, "%u %u",
			   n->port_lo, n->port_hi);
	}
	if (n->tw_reuse >= 0)
		set_sysctl(h, "net.ipv4.tcp_tw_reuse", "tw_reuse", NULL, NULL, "%d", n->tw_reuse);
	if (n->timestamps >= 0)
		set_sysctl(h, "net.ipv4.tcp_timestamps", "timestamps", NULL, NULL, "%d",
			   n->timestamps);
	/* always: the kernel's default is ehash/2, which depends on the machine's memory */
	set_sysctl(h, "net.ipv4.tcp_max_tw_buckets", "max_tw_buckets", NULL, NULL, "%u",
		   n->max_tw_buckets);
	if (n->tw_reuse_delay_ms != LAB_KERNEL_REUSE_DELAY_MS)
		set_sysctl(h, "net.ipv4.tcp_tw_reuse_delay", "tw_reuse_delay", "Linux 6.14", NULL,
			   "%u", n->tw_reuse_delay_ms);
	if (n->rto_ns != LAB_KERNEL_RTO_NS) {
		/* an established connection's RTO is srtt + max(rttvar, rto_min): on a veth
		 * (srtt of tens of µs) that is rto_min */
		units_fmt_duration(shown, sizeof(shown), n->rto_ns);
		set_sysctl(h, "net.ipv4.tcp_rto_min_us", "rto", "Linux 6.11", shown, "%lld",
			   (long long)(n->rto_ns / 1000));
	}
	if (n->syn_retries >= 0)
		set_sysctl(h, "net.ipv4.tcp_syn_retries", "syn_retries", NULL, NULL, "%d",
			   n->syn_retries);
	if (n->rfc1337 != 0)
		set_sysctl(h, "net.ipv4.tcp_rfc1337", "rfc1337", NULL, NULL, "%d", n->rfc1337);
	return 0;
}

/* mapping_timeout of a NAT gateway or L4 balancer: conntrack keeps a closed flow's tuple (and
 * so its public port) for nf_conntrack_tcp_timeout_time_wait, whole seconds. */
static int ct_timeout(struct lab_plan *plan, const struct sim_node *n, struct lab_host *h,
		      char *err, size_t errlen)
{
	char shown[24];

	if (n->mapping_timeout_ns == LAB_KERNEL_CT_TIME_WAIT_NS)
		return 0;
	if (n->mapping_timeout_ns == 0)
		snprintf(shown, sizeof(shown), "0s");
	else
		units_fmt_duration(shown, sizeof(shown), n->mapping_timeout_ns);
	if (n->mapping_timeout_ns % 1000000000LL != 0)
		return refuse(plan, n, "mapping_timeout", err, errlen,
			      "%s: the lab's conntrack (nf_conntrack_tcp_timeout_time_wait) counts "
			      "whole seconds", shown);
	set_sysctl(h, "net.netfilter.nf_conntrack_tcp_timeout_time_wait", "mapping_timeout", NULL,
		   shown, "%lld", (long long)(n->mapping_timeout_ns / 1000000000LL));
	return 0;
}

/* An rtt the veth gives anyway, or the refusal. */
static int rtt_check(struct lab_plan *plan, const struct sim_node *n, char *err, size_t errlen)
{
	char shown[24];

	if (n->rtt_ns <= LAB_RTT_VETH_MAX_NS)
		return 0;
	units_fmt_duration(shown, sizeof(shown), n->rtt_ns);
	return refuse(plan, n, "rtt", err, errlen,
		      "%s: the lab's veth links have a round trip of tens of microseconds and it "
		      "adds no delay (up to 1ms is built as that)", shown);
}

/* The keys of the client group (chain[0]) that bench does or cannot build. */
static int client_keys(struct lab_plan *plan, const struct sim_node *n, char *err, size_t errlen)
{
	if (n->count != 1)
		return refuse(plan, n, "count", err, errlen, "%u: the lab runs one client host",
			      n->count);
	if (n->arrival != SIM_ARRIVAL_CONSTANT)
		return refuse(plan, n, "arrival", err, errlen,
			      "%s: the lab drives a constant rate (bench --rate)",
			      n->arrival == SIM_ARRIVAL_POISSON ? "poisson" : "ramp");
	if (n->rate <= 0)
		return refuse(plan, n, "rate", err, errlen, "0/s: the lab needs connections");
	if (n->bind_port)
		return refuse(plan, n, "bind_port", err, errlen,
			      "yes: bench connects with IP_BIND_ADDRESS_NO_PORT (the kernel's own "
			      "port search); it has no explicit-port bind()");
	if (n->port_select != SIM_PORTSEL_KERNEL)
		return refuse(plan, n, "port_select", err, errlen,
			      "app: the lab's client lets connect() pick its ports");
	return rtt_check(plan, n, err, errlen);
}

/* The keys of an L7 balancer (twkit's relay or nginx: one backend connection per client
 * connection, closed by the balancer first, from one listening port). */
static int l7_keys(struct lab_plan *plan, const struct sim_node *n, const struct sim_node *client,
		   char *err, size_t errlen)
{
	char shown[24];

	if (n->requests != 1)
		return refuse(plan, n, "requests", err, errlen,
			      "%u: the lab's balancer opens one backend connection per client "
			      "connection and carries that connection's requests", n->requests);
	/* twkit's relay forwards the client's request as it is: bench's "server closes" mark
	 * reaches the server, which then closes the backend connection first, and the relay
	 * closes the client's after it. So the balancer's close follows the client's. */
	if (n->closes != client->closes)
		return refuse(plan, n, "closes", err, errlen,
			      "%s with the client's closes = %s: the lab's balancer (twkit's relay) "
			      "forwards the client's request, whose close mark decides who closes the "
			      "backend connection; set both the same",
			      n->closes == SIM_CLOSES_SERVER ? "server" : "client",
			      client->closes == SIM_CLOSES_SERVER ? "server" : "client");
	plan->l7_server_closes = n->closes == SIM_CLOSES_SERVER;
	if (n->linger0)
		return refuse(plan, n, "linger0", err, errlen,
			      "yes: the lab's balancer closes with a FIN");
	if (n->bind_port)
		return refuse(plan, n, "bind_port", err, errlen,
			      "yes: the lab's balancer binds with IP_BIND_ADDRESS_NO_PORT");
	if (n->port_select != SIM_PORTSEL_KERNEL)
		return refuse(plan, n, "port_select", err, errlen,
			      "app: the lab's balancer lets connect() pick its ports");
	if (n->ports != 1)
		return refuse(plan, n, "ports", err, errlen,
			      "%u: the lab's balancer listens on one port", n->ports);
	if (n->service_ns != 0)
		return refuse(plan, n, "service_time", err, errlen,
			      "%s: the lab's balancer forwards at once",
			      units_fmt_duration(shown, sizeof(shown), n->service_ns));
	return rtt_check(plan, n, err, errlen);
}

/* The keys of the server (bench serve: answers at once, one address, `ports` ports). */
static int server_keys(struct lab_plan *plan, const struct sim_node *n, char *err, size_t errlen)
{
	char shown[24];

	if (n->ips != 1)
		return refuse(plan, n, "ips", err, errlen, "%u: the lab's server has one address",
			      n->ips);
	if (n->service_ns != 0)
		return refuse(plan, n, "service_time", err, errlen,
			      "%s: bench serve answers at once; it has no service time",
			      units_fmt_duration(shown, sizeof(shown), n->service_ns));
	return 0;
}

/* The keys of a NAT gateway or L4 balancer (nftables in the middle namespace). */
static int forward_keys(struct lab_plan *plan, const struct sim_node *n, struct lab_host *h,
			char *err, size_t errlen)
{
	set_sysctl(h, "net.ipv4.ip_forward", NULL, NULL, NULL, "1");
	if (n->kind == SIM_NODE_NAT && n->mapping == SIM_NAT_SEQUENTIAL)
		return refuse(plan, n, "mapping", err, errlen,
			      "sequential: nftables masquerade keeps the inside port when it is "
			      "free (preserve) or draws one (random, fully-random); it has no "
			      "sequential choice");
	if (n->kind == SIM_NODE_NAT)
		plan->mapping = n->mapping;
	/* one inside host keeps one public address (docs/scenarios.md), so a NAT's ips build
	 * as they are; an L4 balancer's are VIPs the client would spread over */
	if (n->kind == SIM_NODE_L4LB && n->ips != 1)
		return refuse(plan, n, "ips", err, errlen,
			      "%u: the lab's L4 balancer has one virtual IP", n->ips);
	return ct_timeout(plan, n, h, err, errlen);
}

/* Index of the node named `name`, or -1. */
static int node_find(const struct sim_scenario *sc, const char *name)
{
	for (int i = 0; i < sc->nnodes; i++)
		if (strcmp(sc->nodes[i].name, name) == 0)
			return i;
	return -1;
}

int lab_plan_from_sim(const struct sim_scenario *sc, struct lab_plan *plan, char *err,
		      size_t errlen)
{
	const struct sim_node *chain[LAB_MAX_HOSTS + 1];
	int nchain = 0, client = -1, rc;

	memset(plan, 0, sizeof(*plan));
	plan->middle = -1;
	for (int i = 0; i < sc->nnodes; i++) {
		if (sc->nodes[i].kind != SIM_NODE_CLIENT)
			continue;
		if (client >= 0) {
			snprintf(err, errlen, "the lab runs one client group; '%s' and '%s' found",
				 sc->nodes[client].name, sc->nodes[i].name);
			return -EOPNOTSUPP;
		}
		client = i;
	}
	if (client < 0) {
		snprintf(err, errlen, "scenario '%s' has no client", sc->name);
		return -EOPNOTSUPP;
	}
	for (int i = client; i >= 0; i = node_find(sc, sc->nodes[i].via)) {
		if (nchain == LAB_MAX_HOSTS) {
			snprintf(err, errlen, "the lab builds client -> middlebox -> server; '%s' "
				 "adds a fourth hop", sc->nodes[i].name);
			return -EOPNOTSUPP;
		}
		chain[nchain++] = &sc->nodes[i];
		if (sc->nodes[i].kind == SIM_NODE_SERVER)
			break;
	}
	if (nchain < 2 || chain[nchain - 1]->kind != SIM_NODE_SERVER) {
		snprintf(err, errlen, "client '%s' does not lead to a server", chain[0]->name);
		return -EOPNOTSUPP;
	}
	if (sc->duration_ns <= 0 || sc->duration_ns > LAB_MAX_DURATION_NS) {
		snprintf(err, errlen, "duration must be within 1..90 s in the lab");
		return -EOPNOTSUPP;
	}
	for (int i = 0; i < nchain; i++) {
		const struct sim_node *n = chain[i];
		struct lab_host *h = &plan->hosts[i];

		snprintf(h->node, sizeof(h->node), "%s", n->name);
		h->kind = n->kind;
		h->role = i == 0 ? LAB_ROLE_CLIENT :
			  i == nchain - 1 ? LAB_ROLE_SERVER : LAB_ROLE_MIDDLE;
		if (n->kind == SIM_NODE_NAT || n->kind == SIM_NODE_L4LB)
			rc = forward_keys(plan, n, h, err, errlen);
		else
			rc = tcp_sysctls(plan, n, h, err, errlen);
		if (rc == 0 && h->role == LAB_ROLE_CLIENT)
			rc = client_keys(plan, n, err, errlen);
		else if (rc == 0 && n->kind == SIM_NODE_L7LB)
			rc = l7_keys(plan, n, chain[0], err, errlen);
		else if (rc == 0 && h->role == LAB_ROLE_SERVER)
			rc = server_keys(plan, n, err, errlen);
		if (rc < 0)
			return rc;
		if (h->role == LAB_ROLE_MIDDLE) {
			plan->middle = i;
			plan->middle_kind = n->kind;
			plan->strip_timestamps = n->strip_timestamps;
			plan->middle_ips = n->ips ? n->ips : 1;
		}
	}
	plan->nhosts = nchain;
	plan->client_ips = chain[0]->ips ? chain[0]->ips : 1;
	plan->server_ports = chain[nchain - 1]->ports ? chain[nchain - 1]->ports : 1;
	if (plan->client_ips > LAB_MAX_IPS || plan->middle_ips > LAB_MAX_IPS ||
	    plan->server_ports > LAB_MAX_PORTS) {
		snprintf(err, errlen, "the lab builds at most %d addresses per host and %d ports",
			 LAB_MAX_IPS, LAB_MAX_PORTS);
		return -EOPNOTSUPP;
	}
	plan->rate = chain[0]->rate;
	plan->requests = chain[0]->requests ? chain[0]->requests : 1;
	plan->closes = chain[0]->closes;
	plan->linger0 = chain[0]->linger0;
	plan->duration_ns = sc->duration_ns;
	return 0;
}
