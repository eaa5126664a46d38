/*
 * sim — deterministic discrete-event simulation of TIME-WAIT trouble on top of model/.
 *
 * A scenario is a set of named nodes (client groups, NAT gateways, L4/L7 load balancers,
 * servers) read from an INI file or a built-in (docs/scenarios.md). sim_run() plays it with
 * integer-nanosecond time and a seeded PRNG: the same scenario and seed give the same result,
 * byte for byte. Used by `twkit sim` and by `twkit lab` (which runs the `host` profile on the
 * same scenarios to compare with the real kernel).
 *
 * Ownership: a struct sim_scenario is a plain value (no pointers to free). A struct sim_result
 * owns its hosts[] array and their series; release it with sim_result_fini().
 */
#ifndef TWKIT_SIM_SIM_H
#define TWKIT_SIM_SIM_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hist.h"
#include "common/series.h"
#include "model/profile.h"
#include "sim/natgw.h"

#define SIM_MAX_NODES 16
#define SIM_GW_UNSET_U UINT32_MAX /* a gateway limit left to its profile */
#define SIM_GW_UNSET_NS (-1)
#define SIM_NAME_LEN 32

enum SIM_NODE_KIND { SIM_NODE_CLIENT, SIM_NODE_NAT, SIM_NODE_L4LB, SIM_NODE_L7LB, SIM_NODE_SERVER };
enum SIM_ARRIVAL { SIM_ARRIVAL_CONSTANT, SIM_ARRIVAL_POISSON, SIM_ARRIVAL_RAMP };
/* Who sends the first FIN on a connection: the side that connected, or the side that accepted. */
enum SIM_CLOSER { SIM_CLOSES_CLIENT, SIM_CLOSES_SERVER };
enum SIM_NAT_MAP { SIM_NAT_PRESERVE, SIM_NAT_SEQUENTIAL, SIM_NAT_RANDOM };
/* Who picks the source port: connect()'s search (§3.2), or the application (a cursor per
 * (source IP, destination) over the range, bind() of that exact port with SO_REUSEADDR, then
 * connect(): the §2.3 bound-port path, no search; a failure moves the cursor on). */
enum SIM_PORT_SELECT { SIM_PORTSEL_KERNEL, SIM_PORTSEL_APP };

/* One [kind name] section. Fields that do not apply to the kind are ignored (and rejected by
 * the INI reader). Durations are ns, rates per second. */
struct sim_node {
	char name[SIM_NAME_LEN];
	enum SIM_NODE_KIND kind;
	int line;                /* line of the section header (0 for --set-created nodes) */
	char kernel[SIM_NAME_LEN]; /* profile name; "" = the scenario's kernel */
	uint32_t count;          /* client: identical hosts in the group */
	uint32_t ips;            /* client source IPs per host, NAT public IPs, LB IPs, server IPs */
	/* sysctls of hosts that run TCP (client, l7lb, server) */
	int tw_reuse;            /* -1 = the era's default */
	int tw_recycle;          /* only eras < 4.12 (§4) */
	int timestamps;          /* tcp_timestamps 0/1/2 (§6) */
	uint32_t tw_reuse_delay_ms; /* 6.14+ (§2.2) */
	uint32_t max_tw_buckets;
	uint16_t port_lo, port_hi; /* ip_local_port_range; 0-0 = the era's default */
	uint32_t hz;             /* timestamp tick before the fixed 1 kHz clock (§5) */
	int64_t rto_ns;          /* RTO of established connections (3.5x RTO rules, §1.2) */
	int syn_retries;         /* -1 = the era's default (§10) */
	int rfc1337;
	/* workload (client) */
	enum SIM_ARRIVAL arrival;
	double rate, rate_to;    /* new connections/s per host; ramp goes rate -> rate_to */
	uint32_t requests;       /* requests per connection */
	enum SIM_CLOSER closes;  /* client/l7lb: who closes its outgoing connections */
	bool linger0;            /* the closer uses SO_LINGER {1,0}: RST, no TIME-WAIT (§7) */
	bool bind_port;          /* bind() an explicit port before connect (bypass, §2.3) */
	enum SIM_PORT_SELECT port_select;
	/* kernel CPU of connect() (model/portsearch.h): base + probes x probe, ns */
	uint32_t connect_probe_ns, connect_base_ns;
	int64_t rtt_ns;
	int64_t idle_ns;         /* client: open and silent this long after its requests */
	char via[SIM_NAME_LEN];  /* next hop: a nat, l4lb, l7lb or server node */
	/* nat */
	enum SIM_NAT_MAP mapping;
	int64_t mapping_timeout_ns;
	/* nat as a cloud gateway (docs/cloud-nat.md): a profile, and overrides of its limits
	 * (SIM_GW_UNSET: the profile's, or none without one) */
	char gw_profile[SIM_NAME_LEN];
	uint32_t ports_per_host, max_per_destination, gw_nodes;
	int64_t gw_time_wait_ns, gw_idle_ns;
	/* l4lb */
	bool strip_timestamps;   /* the balancer removes the TCP timestamp option */
	/* server, l7lb (accepting side) */
	uint32_t ports;          /* listening ports (server) */
	int64_t service_ns;      /* time to serve one request */
};

struct sim_scenario {
	char name[64];
	char file[256];          /* where it came from ("builtin:NAME" or a path) */
	int64_t duration_ns;
	uint64_t seed;
	char kernel[SIM_NAME_LEN]; /* default profile for every node */
	int nnodes;
	struct sim_node nodes[SIM_MAX_NODES];
};

/*
 * Load a scenario from an INI file / from text / by built-in name. On error returns -EINVAL
 * (or -ENOENT, -ENOMEM, -EIO) and writes "FILE:LINE: key 'k': expected ..." into err.
 * Values are validated as read; cross-references (via) and kernels by sim_scenario_check().
 */
int sim_scenario_load_file(const char *path, struct sim_scenario *sc, char *err, size_t errlen);
int sim_scenario_load_string(const char *text, const char *label, struct sim_scenario *sc,
			     char *err, size_t errlen);
int sim_scenario_load_builtin(const char *name, struct sim_scenario *sc, char *err,
			      size_t errlen);
/* A node of kind `kind` with sim's defaults (every key unset: the era's values, rate 100/s,
 * rtt 1 ms, ...), name empty: what a [KIND NAME] section starts from, and the one set of
 * defaults (the lab's catalogue starts from it too). */
void sim_node_defaults(struct sim_node *n, enum SIM_NODE_KIND kind);
/* Write sc as a scenario file: [sim] (name, duration, seed unless 1, kernel), then each node's
 * section with the keys that differ from sim_node_defaults() of its kind, so that loading the text
 * gives sc back (section lines aside). Returns 0, or -EIO when f fails. */
int sim_scenario_write(FILE *f, const struct sim_scenario *sc);
/* Apply "section.key=value" (section is a node name or "sim"). 0 or -EINVAL with err. */
int sim_scenario_set(struct sim_scenario *sc, const char *assignment, char *err, size_t errlen);
/* Apply each line of `lines` ("a.b=1\nc.d=2", as OPT_MULTI collects --set) in order. 0, or
 * the first error (-EINVAL with err, -ENOMEM). */
int sim_scenario_set_lines(struct sim_scenario *sc, const char *lines, char *err, size_t errlen);
/* Whether nat node n is a cloud gateway (a profile or a gateway key), and its limits
 * resolved into *cfg (may be NULL): 0, or -EINVAL with err naming FILE:LINE and the key. */
int sim_gateway_cfg(const struct sim_scenario *sc, const struct sim_node *n,
		    struct natgw_cfg *cfg, bool *is_gw, char *err, size_t errlen);
/* Whether a command-line scenario argument names a file rather than a built-in: it has a '/'
 * or ".ini", or it is no known name (known false) and a file of that name exists. */
bool sim_scenario_arg_is_file(const char *arg, bool known);
/* Whole-scenario checks: via targets exist and form a client->...->server path, kernels
 * resolve (host_release is used for "host"), tw_recycle only where the era has it. */
int sim_scenario_check(const struct sim_scenario *sc, const char *host_release, char *err,
		       size_t errlen);

/* Built-in scenarios: count, name, one-line summary, the INI text, and the --explain text. */
int sim_builtin_count(void);
const char *sim_builtin_name(int i);
const char *sim_builtin_summary(int i);
const char *sim_builtin_text(const char *name);
const char *sim_builtin_explain(const char *name);
/* --explain: the model's budget of every node that opens connections, for sc as given (after
 * --set), one line each on f; release is the host's for profile "host". */
void sim_explain_budgets(FILE *f, const struct sim_scenario *sc, const char *release);
/* --explain: each cloud gateway's budget (natgw_explain.c), for sc as given. */
void sim_explain_gateways(FILE *f, const struct sim_scenario *sc);
/* The 4-tuple budget of node i when its TIME-WAITs bound it (model/budget.h), with tuples
 * summed over the group's hosts, and a one-line label for a plot. 0, or -ENOENT when node i
 * opens no connections or keeps no TIME-WAIT that bounds it. */
struct tw_budget_out;
int sim_node_budget(const struct sim_scenario *sc, int i, const char *release,
		    struct tw_budget_out *out, char *label, size_t len);

/* connect() failures by errno (summary.connect_errors) */
enum SIM_ERR { SIM_ERR_EADDRNOTAVAIL, SIM_ERR_ETIMEDOUT, SIM_ERR_ECONNRESET, SIM_ERR_N };
const char *sim_err_name(enum SIM_ERR e);

/* Counters per reported host (a client group, a balancer, a server); kernel names in comments. */
struct sim_counters {
	uint64_t active_opens;     /* ActiveOpens: connect() that sent a SYN */
	uint64_t passive_opens;    /* PassiveOpens */
	uint64_t connections_ok;   /* outgoing connections established */
	uint64_t connect_errors[SIM_ERR_N];
	uint64_t syn_retrans;      /* TCPSynRetrans */
	uint64_t paws_passive;     /* PAWSPassive: SYNs dropped by the tw_recycle check (§4.3) */
	uint64_t tw;               /* TW: TIME-WAITs that ran their full timer */
	uint64_t tw_killed;        /* TWKilled: short (<= 4 s) recycle TIME-WAITs that expired */
	uint64_t tw_recycled;      /* TWRecycled: taken over by tcp_tw_reuse (§2.3) */
	uint64_t tw_overflow;      /* TCPTimeWaitOverflow (§1.4) */
	uint64_t tw_syn_accepted;  /* SYNs that re-opened a TIME-WAIT 4-tuple (§5.1) */
	uint64_t tw_ack_rst;       /* SYNs a TIME-WAIT answered with an ACK; the RST killed it */
	uint64_t abort_on_data;    /* TCPAbortOnData: SO_LINGER 0 closes (§7) */
	uint64_t estab_resets;     /* EstabResets: the peer of an SO_LINGER 0 close */
	uint64_t nat_port_fail;    /* NAT/L4 balancer had no free public port: SYN dropped */
	uint64_t paws_tw;          /* SYNs PAWS-rejected by a TIME-WAIT (PAWSEstab, or
				    * PAWSTimewait on the newest kernels, §5) */
	uint64_t port_select_fail; /* port_select = app: bind()/connect() of the cursor's port
				    * failed, the cursor moved on */
};

/* connect()'s price on one node (every host of it summed): the ports its searches examined
 * and the kernel CPU that took (model/portsearch.h), and what a saturated core did to the
 * connects queued behind it. */
struct sim_connect_cpu {
	struct hist probes;        /* per connect() call: candidate ports examined */
	uint64_t calls;            /* connect() calls priced (failures included) */
	uint64_t cpu_ns;           /* kernel CPU of those calls: base + probes x probe */
	uint64_t queued;           /* connects that waited for the host's core */
	uint64_t dropped;          /* arrivals refused: the host's backlog was full */
	uint64_t backlog_max;      /* most connects waiting on one host at once */
	uint32_t probe_ns, base_ns; /* the prices used */
};

struct sim_host_result {
	char name[SIM_NAME_LEN];
	enum SIM_NODE_KIND kind;
	char profile[SIM_NAME_LEN];  /* profile name used */
	uint32_t hosts;              /* machines in the group */
	struct sim_counters c;
	uint64_t time_wait_max;      /* peak TIME-WAIT count (sum over the group) */
	uint64_t established_max;
	uint64_t mem_max;            /* peak estimated kernel memory of those TIME-WAITs, bytes */
	bool gateway;                /* a nat node with cloud gateway limits: gw, gw_peak */
	struct natgw_cfg gw;
	uint32_t gw_peak;            /* most of its ports held toward one destination at once */
	uint64_t gw_drop[NATGW_DROP_N]; /* its drops by reason (natgw.h); not in sim_counters,
					 * whose size the event loop's indexing pays for */
	struct sim_connect_cpu cpu;  /* connecting nodes (client, l7lb) */
	/* per simulated second: time_wait, established, new_ok, eaddrnotavail, etimedout,
	 * paws_passive, syn_retrans, tw_recycled, tw_overflow, mem_bytes (columns by name) */
	struct series series;
};

/* Kernel CPU per completed connection of a connecting node, microseconds: what a process's
 * ru_stime over its completed connections reads (sys_us_per_conn); 0 when none completed. */
static inline double sim_sys_us_per_conn(const struct sim_host_result *h)
{
	return h->c.connections_ok ? (double)h->cpu.cpu_ns / 1e3 / (double)h->c.connections_ok
				   : 0;
}

#define SIM_LAT_STEPS 6
/* Thresholds of sim_result.latency_over, seconds. */
extern const int sim_latency_steps_s[SIM_LAT_STEPS];

struct sim_result {
	uint64_t connections_ok;      /* outgoing connections of client groups that completed */
	uint64_t connect_errors[SIM_ERR_N];
	int64_t first_failure_ns;     /* first failed connect(), -1 if none */
	uint64_t syn_dropped;         /* sum of PAWSPassive */
	uint64_t syn_retrans;
	uint64_t events;              /* events processed (for bench/sim-speed) */
	uint64_t attempts;            /* connect() calls of client groups */
	int64_t duration_ns;
	uint64_t tw_records_peak;     /* peak TIME-WAIT records alive in the simulator */
	uint64_t sim_bytes_peak;      /* simulator memory for connection state at that peak */
	struct hist latency;          /* connect latency (ns) of client groups, SYN retries included */
	/* connects that took at least 1, 3, 7, 15, 31, 63 s: SYN retransmissions (§10) */
	uint64_t latency_over[SIM_LAT_STEPS];
	int nhosts;
	struct sim_host_result *hosts;
};

/* Called about once per simulated second of progress when set (stderr progress line). */
typedef void (*sim_progress_fn)(void *arg, int64_t now_ns, int64_t end_ns);

struct sim_config {
	const struct sim_scenario *sc; /* checked by sim_run with sim_scenario_check */
	const char *host_release;     /* uname release for the "host" profile; may be NULL */
	int64_t sample_ns;            /* series step; 0 = 1 s */
	bool no_series;               /* skip the per-second series (benchmarks) */
	sim_progress_fn progress;
	void *progress_arg;
};

/*
 * Run the scenario. Fills *res (caller frees with sim_result_fini even on error).
 * Returns 0, -EINVAL (scenario fails sim_scenario_check) or -ENOMEM.
 */
int sim_run(const struct sim_config *cfg, struct sim_result *res);
void sim_result_fini(struct sim_result *res);
/* The host result named `name`, or NULL. */
const struct sim_host_result *sim_result_host(const struct sim_result *res, const char *name);

/*
 * An upper bound, computed from the scenario before the run, of the resident memory the
 * process running sim_run(cfg) peaks at (the program included), by what takes it: per-host
 * records, port-selection tables (§3.2) and destinations; the connections open at once;
 * the TIME-WAIT records (rate x 60 s per closing side at most, fewer where the ports or
 * tcp_max_tw_buckets bind); the series (none when cfg->no_series). Returns 0, or -EINVAL
 * when a kernel or a via path does not resolve (sim_scenario_check says which).
 */
struct sim_mem_estimate {
	uint64_t total;          /* bytes: base + hosts + conns + time_wait + series */
	uint64_t base;           /* the program and the run's fixed tables */
	uint64_t hosts;          /* per-host records and tables; NAT/L4 port tables */
	uint64_t conns;          /* open connections: records, sockets, their ehash share */
	uint64_t time_wait;      /* TIME-WAIT sockets, FIFO entries, their ehash share */
	uint64_t series;         /* the per-second series */
	uint64_t nhosts;         /* machines that run TCP */
	uint64_t live_max;       /* connections open at once, at most */
	uint64_t tw_max;         /* TIME-WAIT records at once, at most */
	int host_node;           /* the node whose hosts cost the most (-1: none) */
	int live_node;           /* the connecting node with the most open connections */
	int tw_node;             /* the connecting node whose closes leave the most TIME-WAITs */
};
int sim_mem_estimate(const struct sim_config *cfg, struct sim_mem_estimate *est);

#endif
