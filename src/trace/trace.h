/*
 * trace — `twkit trace`: connect() failures, active closes, connect() time and SYN
 * retransmissions, counted in the kernel by eBPF (bpf/trace.bpf.c) and read here.
 *
 * trace_bpf_* is the loader (libbpf skeleton); trace_data is one read of the kernel's counters
 * (cumulative since attach); trace_data_sort ranks its rows and trace_render_* shows them,
 * --top per table with the rest summed into one "other" row; trace_cg_* resolves cgroup ids to
 * paths and container ids.
 */
#ifndef TWKIT_TRACE_TRACE_H
#define TWKIT_TRACE_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hist.h"
#include "trace/trace_abi.h"

struct trace_fail {
	struct trace_fail_key k;
	uint64_t count;
};

struct trace_close {
	struct trace_close_key k;
	uint64_t count;	     /* active closes */
	uint64_t time_waits; /* the TIME-WAITs those closes led to (docs/trace.md) */
};

struct trace_lat {
	struct trace_addr k;
	struct hist h; /* ns */
};

struct trace_synrt {
	struct trace_addr k;
	uint64_t count;
};

/* One read of every map. Arrays are sized to the maps' max_entries (bounded). */
struct trace_data {
	struct trace_fail *fail;
	size_t nfail;
	struct trace_close *close;
	size_t nclose;
	struct trace_lat *lat;
	size_t nlat;
	struct trace_synrt *synrt;
	size_t nsynrt;
	uint64_t stat[TRACE_STAT_N];
	uint64_t missed;   /* program runs the kernel skipped (nested on one CPU: recursion) */
	uint64_t dropped;  /* sum of the TRACE_DROP_* counters and missed */
	uint64_t connects; /* connect() calls timed (inet families): the latency counts' sum */
};

/* Allocate the arrays (0 or -ENOMEM); trace_data_fini frees them (NULL-safe). */
int trace_data_init(struct trace_data *d);
void trace_data_fini(struct trace_data *d);

struct trace_bpf;

/*
 * What the kernel must offer, checked before loading: root, BTF, tracefs and each tracepoint.
 * Returns 0, or a negative errno with `what` naming the first missing piece (for exit 3).
 */
int trace_bpf_check(char *what, size_t len);

/*
 * Load and attach the programs; netns = 0 traces every namespace, else only that netns inode.
 * Returns 0 and *out, or a negative errno with a message in err.
 */
int trace_bpf_open(struct trace_bpf **out, uint32_t netns, char *err, size_t errlen);
/* Read every map into d (replacing its contents). 0 or a negative errno. */
int trace_bpf_read(struct trace_bpf *t, struct trace_data *d);
/* Detach and free; NULL is a no-op. */
void trace_bpf_close(struct trace_bpf *t);

/* Sort each table by count, descending (latency: by calls); ties by key bytes (stable output). */
void trace_data_sort(struct trace_data *d);

/*
 * cgroup id -> path under the cgroup v2 mount ("/" for the root), NULL when unknown.
 * The cache is filled by walking the hierarchy once per miss batch; bounded.
 */
struct trace_cg;
struct trace_cg *trace_cg_new(void);
void trace_cg_free(struct trace_cg *c);
const char *trace_cg_path(struct trace_cg *c, uint64_t id);

/*
 * Container id in a cgroup path, read by kns_cgroup_path_ids (kernel/netns_list.h, the parser
 * doctor --all-netns uses): the id of docker, containerd, CRI-O, podman or kubepods when it is
 * 64 lowercase hex digits (an LXC container's name is not taken). Copies the id (64 hex + NUL,
 * out needs 65 bytes) and returns 1; 0 when the path holds none.
 */
int trace_cg_container_id(const char *path, char *out, size_t len);

/* Name of a netns inode under /run/netns, or NULL. The result is cached by the caller. */
int trace_netns_name(uint32_t inum, char *out, size_t len);

/* "10.0.0.5" / "::1" for an address (family in a). */
char *trace_addr_str(char *buf, size_t len, const struct trace_addr *a);
/* "EADDRNOTAVAIL" for 99, "E123" when unknown. */
const char *trace_errno_name(int err, char *buf, size_t len);

/* What a renderer needs besides the counters. */
struct trace_view {
	const struct trace_data *d; /* sorted (trace_data_sort) */
	unsigned top;		    /* rows per table; the rest is one "other" row */
	struct trace_cg *cg;
	double elapsed_s;
};

/* Human tables; final adds the closing summary lines. */
void trace_render_human(FILE *f, const struct trace_view *v, bool final);
/* JSON, schema twkit.trace/1 (docs/trace.md). */
void trace_render_json(FILE *f, const struct trace_view *v);
/* Prometheus text exposition (docs/trace.md lists the metrics). */
void trace_render_prom(FILE *f, const struct trace_view *v);

/*
 * Run the programs for duration_ns (interrupted early by SIGINT/SIGTERM when the caller set
 * *stop) and read the counters into d (initialised by the caller). For doctor --trace.
 * Returns 0, -EPERM/-ENOENT with `err` naming what the kernel lacks (exit 3), or another
 * negative errno with a message.
 */
int trace_collect(int64_t duration_ns, uint32_t netns, struct trace_data *d,
		  volatile sig_atomic_t *stop, char *err, size_t errlen);

/* The inode of /run/netns/NAME, or a negative errno (-EINVAL for a bad name). */
int trace_netns_inum(const char *name, uint32_t *inum);

#endif
