/*
 * lab_scen — the lab's catalogue and its plan. A lab scenario *is* a sim scenario (struct
 * sim_scenario, the same one `twkit sim` plays): the catalogue holds the shortest form of each
 * sim scenario the running kernel can show (narrow port ranges instead of long waits), and
 * `--compare` hands that very struct to sim_run(), so both sides play the same thing.
 * lab_plan_from_sim() turns a scenario into what the lab builds: one client namespace, at most
 * one middlebox (NAT, L4 or L7 balancer) and one server, each with its sysctls, and the bench
 * workload. Pure functions, no I/O.
 */
#ifndef TWKIT_LAB_LAB_SCEN_H
#define TWKIT_LAB_LAB_SCEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"

/* §Issue: a lab scenario takes at most 90 s */
#define LAB_MAX_DURATION_NS (90LL * 1000000000LL)
#define LAB_MAX_SYSCTL 12
#define LAB_MAX_HOSTS 3
#define LAB_MAX_IPS 16
#define LAB_MAX_PORTS 64
#define LAB_SERVER_PORT 8000 /* first listening port of the server */

enum LAB_ROLE { LAB_ROLE_CLIENT, LAB_ROLE_MIDDLE, LAB_ROLE_SERVER };

/* One sysctl of a host's namespace, and the scenario key it builds (for messages). */
struct lab_sysctl {
	char name[64];     /* "net.netfilter.nf_conntrack_tcp_timeout_time_wait" fits */
	char value[32];
	const char *key;   /* the scenario key ("tw_reuse_delay"); NULL for the lab's own */
	char shown[24];    /* that key's value as a scenario file writes it ("400", "300ms") */
	const char *since; /* NULL, or the release that brought the sysctl ("Linux 6.14") */
};

/* One namespace of the topology. */
struct lab_host {
	char node[SIM_NAME_LEN];   /* the sim node it plays */
	enum SIM_NODE_KIND kind;
	enum LAB_ROLE role;
	int nsysctl;
	struct lab_sysctl sysctl[LAB_MAX_SYSCTL];
};

struct lab_plan {
	int nhosts;                      /* 2 (client, server) or 3 (client, middle, server) */
	struct lab_host hosts[LAB_MAX_HOSTS];
	int middle;                      /* index of the middlebox host, -1 if none */
	enum SIM_NODE_KIND middle_kind;  /* SIM_NODE_NAT, _L4LB or _L7LB when middle >= 0 */
	bool strip_timestamps;           /* L4 balancer removes the TCP timestamp option */
	uint32_t client_ips;             /* source addresses of the client */
	uint32_t middle_ips;             /* L7 balancer's addresses toward the server */
	uint32_t server_ports;           /* listening ports, from LAB_SERVER_PORT */
	double rate;                     /* new connections per second (open loop) */
	uint32_t requests;               /* requests per connection */
	enum SIM_CLOSER closes;
	bool l7_server_closes;           /* the L7 balancer's backend: the server closes first
					  * (twkit's relay only: it forwards the close mark) */
	bool linger0;
	int64_t duration_ns;
	enum SIM_NAT_MAP mapping;        /* NAT gateway's port choice: preserve or random */
	/* on -EOPNOTSUPP about one key of one node: which (NULL / "" otherwise), so that the
	 * caller can point at its line in the file */
	const char *bad_key;
	char bad_node[SIM_NAME_LEN];
};

/*
 * A catalogue entry: a lab name, the sim built-in it is the shortest form of, and why. The
 * lab's scenario is that built-in with its nodes renamed to the lab's host names by kind
 * (lab_host_name: client, nat, lb, server), then the common overlay
 * (lab_catalog_common_overlay) and the entry's own, one line each: sim's --set
 * SECTION.KEY=VALUE, or "[KIND NAME]", a node of sim's defaults (sim_node_defaults) put in the
 * place of NAME, or before the last node when there is none. docs/lab.md lists them.
 */
struct lab_entry {
	const char *name;
	const char *sim_name;	/* the sim built-in it starts from */
	const char *summary;    /* what it shows, one line */
	const char *unsupported;/* NULL, or why the running kernel cannot show it (points to sim) */
	const char *overlay;	/* its lines over the built-in, after the common ones */
	bool checks_sys;	/* --compare checks sys_us_per_conn (lab_catalog_checks_sys) */
};

int lab_catalog_count(void);
/* Whether --compare checks sys_us_per_conn (±25%) for entry e: the connect-cost scenarios,
 * the ones the default connect() prices were calibrated on (model/portsearch.h). */
bool lab_catalog_checks_sys(const struct lab_entry *e);
const struct lab_entry *lab_catalog_at(int i);
/* The entry named `name`, or NULL. */
const struct lab_entry *lab_catalog_find(const char *name);
/* The overlay every entry starts with (the lab's differences from sim's defaults). */
const char *lab_catalog_common_overlay(void);
/* The lab's name of a host of kind `kind`: "client", "nat", "lb" (l4lb, l7lb) or "server". */
const char *lab_host_name(enum SIM_NODE_KIND kind);
/*
 * Fill *sc with the lab form of entry e (kernel "host"). Returns 0, -ENOENT (e NULL),
 * -EOPNOTSUPP (the kernel cannot show it: see e->unsupported), or -EINVAL with err naming the
 * overlay line sim refused (a catalogue bug: tests/unit/test_lab.c builds every entry).
 */
int lab_catalog_build(const struct lab_entry *e, struct sim_scenario *sc, char *err, size_t errlen);
/* lab_catalog_build of the entry named `name` (-ENOENT: none). */
int lab_catalog_scenario(const char *name, struct sim_scenario *sc);
/* Entry e on f: how it is made (its built-in, the renames, the overlays, as '#' comments), then
 * the scenario as a file (sim_scenario_write) that `twkit sim` and `twkit lab` run as it is.
 * 0, or what lab_catalog_build returned, or -EIO. */
int lab_catalog_show(FILE *f, const struct lab_entry *e);

/* "client", "nat", "l4lb", "l7lb" or "server": the section kind of a scenario file. */
const char *lab_kind_name(enum SIM_NODE_KIND kind);

/*
 * What the lab builds for scenario sc: every key of every node on the path is either built
 * (a sysctl of that node's namespace, a bench or nftables option) or refused. Returns 0, or
 * -EOPNOTSUPP with a reason in err when the scenario needs more than the lab builds (several
 * client groups or hosts, a chain longer than client -> middlebox -> server, a duration over
 * 90 s, too many IPs, or a key's value: tw_recycle = 1, hz other than 1000, an rtt above the
 * veth's, a service time, ...). A refused key is named in err as "[kind node] key = value:
 * why", and in plan->bad_node / bad_key. A value the lab builds anyway (the default) is never
 * refused. Whether this kernel has each sysctl is for lab_topo_probe() to say.
 */
int lab_plan_from_sim(const struct sim_scenario *sc, struct lab_plan *plan, char *err,
		      size_t errlen);

#endif
