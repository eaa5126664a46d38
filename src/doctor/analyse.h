/*
 * analyse — snapshot -> analysis: socket roles (incoming/outgoing), the port budget per group,
 * TIME-WAIT creation rates estimated from the timers, time left until a budget runs out, peer
 * timestamps, and memory. Pure: no I/O; kernel rules come from model/.
 *
 * Groups (the budget that really runs out):
 *   outgoing: (local IP, remote IP, remote port) — a source port is shared across destinations
 *   incoming: (local IP, local port, remote IP)  — the same budget seen from the server
 */
#ifndef TWKIT_DOCTOR_ANALYSE_H
#define TWKIT_DOCTOR_ANALYSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/snapshot.h"
#include "model/budget.h"
#include "model/ports.h"
#include "model/profile.h"

enum DOC_DIR { DOC_OUT = 0, DOC_IN = 1 };

/* seconds of age resolution kept per group for the exhaustion forecast (TIME-WAIT = 60 s) */
#define DOC_AGE_SLOTS 61

struct doc_group {
	uint8_t dir;                 /* enum DOC_DIR */
	uint8_t laddr[16], raddr[16];
	uint16_t port;               /* remote port (outgoing) or local port (incoming) */
	uint32_t time_wait;          /* TIME-WAIT minisockets, TIME_WAIT substate */
	uint32_t tw_fin_wait2;       /* TIME-WAIT minisockets in the FIN_WAIT2 substate */
	uint32_t established;
	uint32_t other;              /* every other state (SYN-SENT, FIN-WAIT-1, CLOSE-WAIT ...) */
	uint32_t total;
	uint32_t in_budget;          /* sockets whose port counts against ports_usable */
	uint32_t tw_10s, tw_60s;     /* TIME-WAIT created in the last 10 s / 60 s */
	uint32_t ts_on, ts_off;      /* established sockets with / without timestamps */
	uint32_t peer_on, peer_off;  /* the same over every group with this remote IP */
	uint32_t tw_oldest_ms;       /* age of the oldest TIME-WAIT: how long churn was seen */
	double tw_rate_10s, tw_rate_60s; /* per second (model/budget tw_rate_from_ages) */
	uint32_t ports_usable;
	double utilization;          /* in_budget / ports_usable */
	double eta_s;                /* seconds until no port is left at the 10 s rate; <0: never */
	/* the model's budget for this group (model/budget.h) */
	struct tw_budget_out budget; /* why, hold_ms, rate (0: no ceiling), srv_syn ... */
	int peer_timestamps;         /* 1 yes, 0 no, -1 unknown */
	bool peer_ts_inferred;       /* from what reuse did (TWRecycled), not from tcp_info */
	bool loopback;
	uint16_t expiry[DOC_AGE_SLOTS]; /* TIME-WAIT count by whole seconds left (capped) */
};

struct doc_analysis {
	const struct tw_profile *prof;
	uint32_t kver;               /* 0 if the release did not parse */
	bool profile_guessed;        /* release unknown: newest profile assumed */
	/* sockets by state, TIME-WAIT minisockets under their substate */
	uint32_t by_state[KDIAG_NSTATES];
	uint32_t time_wait, tw_fin_wait2, total;
	uint32_t tw_out, tw_in;
	/* effective settings (the snapshot's, or the profile's defaults when unreadable) */
	int port_lo, port_hi;
	int tw_reuse, timestamps;
	int tw_reuse_delay;          /* ms; -1 when the kernel has no such sysctl */
	uint32_t reuse_min_age_ms;   /* age at which reuse may take a TIME-WAIT over (model) */
	int syn_retries, rfc1337;    /* -1 when unknown (the era's default applies) */
	uint32_t ports_usable_out;   /* per destination, after reserved ports and listeners */
	double rate_out_no_reuse;    /* what ports_usable_out sustains when the client closes
				      * first and reuse does not apply (model/budget) */
	uint32_t reserved_in_range, listeners_in_range;
	uint32_t ports_peer_default; /* the budget assumed for remote clients (incoming groups) */
	uint32_t listeners;
	/* memory held by TIME-WAIT */
	uint32_t tw_objsize;
	bool tw_objsize_from_slab;
	uint64_t tw_bytes;
	/* connect()'s price (model/portsearch.h): the defaults, or this machine's as
	 * `twkit bench --calibrate` measured it (--connect-probe-ns, --connect-base-ns) */
	uint32_t connect_probe_ns, connect_base_ns;
	bool connect_price_given;
	/* the busiest sockets holder by uid (fd-limit) */
	uint32_t top_uid, top_uid_socks;
	/* groups, sorted: highest utilization first, then most TIME-WAIT */
	struct doc_group *groups;
	size_t ngroups;
};

/* Analyse a snapshot. Returns 0 or -ENOMEM. Free with doc_analysis_fini. */
int doc_analyse(const struct snapshot *s, struct doc_analysis *a);
void doc_analysis_fini(struct doc_analysis *a);
/* connect()'s price for the findings: each of probe_ns, base_ns replaces the model's default
 * when not 0 (and then the findings say it was given). */
void doc_analysis_price(struct doc_analysis *a, uint32_t probe_ns, uint32_t base_ns);

/* "192.0.2.1" / "[2001:db8::1]" with ":port" when port != 0. buf >= 64 bytes. */
const char *doc_endpoint(const uint8_t addr[16], uint16_t port, char *buf, size_t len);

#endif
