/*
 * natgw — cloud NAT gateways: the published limits of AWS NAT gateway, GCP Cloud NAT and
 * Azure's NAT gateway and load balancer SNAT (the profile table, natgw.c, is the one place
 * their figures live; docs/cloud-nat.md cites where each was read), and the accounting of one
 * gateway's ports: per inside host, per (gateway address, destination), the gateway's own
 * TIME_WAIT hold after a close and its idle timeout. These are gateway rules, not kernel
 * rules: nothing here comes from model/.
 *
 * Invariants of a gateway: a port toward one destination on one address is held by at most
 * one flow or one cool-down at a time; a table's `used` equals the bits set in its `held`;
 * cool-downs leave in the order they started (every cool-down lasts the same time).
 *
 * Ownership: natgw_init allocates, natgw_fini frees (fini of a zeroed gateway is a no-op).
 */
#ifndef TWKIT_SIM_NATGW_H
#define TWKIT_SIM_NATGW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a gateway dropped a packet (counted per gateway, and per reason in reports). */
enum NATGW_DROP {
	NATGW_DROP_PORTS_PER_HOST,   /* the host's ports toward that destination are all held */
	NATGW_DROP_PER_DEST,         /* every address holds max_per_destination toward it */
	NATGW_DROP_NO_HOST_PORTS,    /* more hosts than addresses x ports / ports_per_host */
	NATGW_DROP_IDLE,             /* a segment of a flow the idle timeout removed */
	NATGW_DROP_N
};
/* "ports_per_host", "max_per_destination", "host_without_ports", "idle_timeout" */
const char *natgw_drop_name(enum NATGW_DROP why);

/* A named gateway product: its defaults. A field of 0 means "none" unless said otherwise. */
struct natgw_profile {
	const char *name;
	const char *product;          /* what it is, for reports */
	uint32_t ports_per_ip;        /* ports one address offers (from port 1024 up) */
	uint32_t max_per_destination; /* simultaneous mappings per address per destination */
	uint32_t ports_per_host;      /* static ports per inside host (0: a shared pool) */
	bool pool_table;              /* ports_per_host from Azure's default allocation table */
	uint32_t max_ips;             /* addresses the product takes */
	int64_t tcp_time_wait_ns;     /* how long a port stays held after a FIN close */
	int64_t idle_ns;              /* an established flow silent this long is removed */
	bool idle_rst;                /* a segment on a removed flow is answered with RST */
	const char *source;           /* where the figures were read (docs/cloud-nat.md) */
};

int natgw_profile_count(void);
const struct natgw_profile *natgw_profile_at(int i);
/* The profile named name, or NULL. */
const struct natgw_profile *natgw_profile_by_name(const char *name);
/* "aws-nat-gateway, gcp-cloud-nat, azure-nat-gateway or azure-lb-snat" into buf. */
void natgw_profile_names(char *buf, size_t len);
/*
 * Azure load balancer default port allocation: SNAT ports per backend instance for a pool of
 * `nodes` instances (1-1000) and `ips` frontend addresses: the table's per-address figure
 * times the addresses, at most 1024. 0 when nodes is outside the table.
 */
uint32_t natgw_azure_default_ports(uint32_t nodes, uint32_t ips);

/* One gateway as configured (a profile with a scenario's overrides, resolved). */
struct natgw_cfg {
	uint32_t ips;                 /* public addresses (1-64) */
	uint32_t ports_per_ip;        /* 1-64512: ports 1024 .. 1024 + ports_per_ip - 1 */
	uint32_t max_per_destination; /* 1 .. ports_per_ip */
	uint32_t ports_per_host;      /* 0 (shared pool) or 1 .. ports_per_ip */
	int64_t tcp_time_wait_ns;     /* >= 0 */
	int64_t idle_ns;              /* 0: none */
	bool idle_rst;
};

/* Inside hosts one address serves with static blocks (ports_per_ip / ports_per_host); 0 for
 * a shared pool. */
uint32_t natgw_hosts_per_ip(const struct natgw_cfg *c);
/* Whether a flow silent for idle_ns is removed by the gateway before its next segment. */
bool natgw_idle_cuts(const struct natgw_cfg *c, int64_t idle_ns);

/* One (address, destination) port table. */
struct natgw_tab {
	uint32_t daddr;
	uint16_t dport;
	uint8_t ip;
	uint8_t rr;                   /* address 0's table: the address the next flow toward this
				       * destination tries first (shared pool) */
	uint32_t used;                /* ports held by a flow or a cool-down */
	uint32_t cursor;              /* where the shared-pool search starts */
	uint64_t *held;               /* bit per port offset */
	struct natgw_cool *q;         /* cool-downs, oldest first (a ring) */
	uint32_t qh, qn, qcap;
};

struct natgw {
	struct natgw_cfg cfg;
	uint32_t words;               /* 64-bit words of a held bitmap */
	struct natgw_tab *tab;
	uint32_t ntab, tabcap, last;
	uint32_t *hkey, *hslot;       /* inside address -> block slot (open addressing) */
	uint32_t hcap, nhost;
	uint64_t drops[NATGW_DROP_N];
	uint32_t peak_used;           /* most ports held in one table at once */
};

/* A gateway with cfg (copied): 0, -EINVAL (cfg out of range) or -ENOMEM. */
int natgw_init(struct natgw *g, const struct natgw_cfg *cfg);
void natgw_fini(struct natgw *g);
/*
 * A new flow from inside address host to (daddr, dport) at now (never earlier than a previous
 * call): picks an address and a port. Returns 0 with *ip (address index), *port and *tab (the
 * handle natgw_unmap takes); -EADDRNOTAVAIL with *why (counted in g->drops) when the gateway
 * has no port for it; -ENOMEM.
 */
int natgw_map(struct natgw *g, uint32_t host, uint32_t daddr, uint16_t dport, int64_t now,
	      uint8_t *ip, uint16_t *port, uint32_t *tab, enum NATGW_DROP *why);
/* The flow on (tab, port) ended at now: after a FIN close the port cools down for
 * tcp_time_wait; otherwise (RST, never established, idle removal) it is free at once. */
void natgw_unmap(struct natgw *g, uint32_t tab, uint16_t port, int64_t now, bool fin);
/* Ports held toward (daddr, dport) on address ip at now (cool-downs due by now let go). */
uint32_t natgw_used(struct natgw *g, uint8_t ip, uint32_t daddr, uint16_t dport, int64_t now);

#endif
