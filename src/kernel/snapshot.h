/*
 * snapshot — one look at a host's TCP state: every socket (sock_diag), the TIME-WAIT related
 * sysctls, the kernel counters, limits and the kernel release. Built the same way from a live
 * host (snapshot_collect) and from a capture (snapshot_from_capture): both feed raw bytes to
 * the same parsers, so a replay gives exactly what the live run gave.
 * Invariant: values that could not be read are marked absent (-1 / have_* false) and named in
 * missing[]; nothing is guessed here (defaults belong to the analysis, from model/).
 */
#ifndef TWKIT_KERNEL_SNAPSHOT_H
#define TWKIT_KERNEL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/procfs.h"
#include "kernel/sockdiag.h"
#include "model/ports.h"

#define SNAP_MAX_MISSING 24

struct snap_settings {
	/* -1 when the sysctl does not exist on this kernel or could not be read */
	int tcp_timestamps, tcp_tw_reuse, tcp_tw_reuse_delay, tcp_tw_recycle;
	int tcp_fin_timeout, tcp_syn_retries;
	int64_t tcp_max_tw_buckets;
	int port_lo, port_hi;          /* ip_local_port_range; -1 if unknown */
	bool have_reserved;
	struct tw_portset reserved;    /* ip_local_reserved_ports */
	char reserved_text[256];       /* as the kernel printed it (truncated) */
	int64_t file_max;              /* fs.file-max */
	int64_t file_nr;               /* fs.file-nr: allocated file handles */
	int64_t nofile_cur, nofile_max; /* RLIMIT_NOFILE of the collecting process */
};

struct snapshot {
	char release[128];     /* kernel release ("" if unknown) */
	int64_t collected_ms;  /* wall clock at collection, ms since the epoch; 0 if unknown */
	struct snap_settings set;
	struct kcounters counters; /* "TcpExt.TW", "Tcp.ActiveOpens", "sockstat.TCP.tw", ... */
	bool have_slab;
	uint32_t tw_objsize;       /* tw_sock_TCP object size from /proc/slabinfo */
	uint64_t tw_slab_active;
	struct kdiag_sock *socks;
	size_t nsocks, cap;
	int nmissing;
	char missing[SNAP_MAX_MISSING][112]; /* "what: why" for each thing not read */
};

void snapshot_init(struct snapshot *s);
void snapshot_fini(struct snapshot *s);

struct cap_writer;
/*
 * Collect from the running kernel, in the current network namespace. When rec is not NULL,
 * every raw input is also appended to the capture. Returns 0, or a negative errno when the
 * socket dump itself failed (err says what); unreadable /proc files only land in missing[].
 */
int snapshot_collect(struct snapshot *s, struct cap_writer *rec, char *err, size_t errlen);

struct cap_reader;
/* Build from a parsed capture. 0, or -EINVAL with the reason in err (a corrupt dump). */
int snapshot_from_capture(struct snapshot *s, const struct cap_reader *r, char *err,
			  size_t errlen);

/* Feed one input by its canonical name (what capture sections are called). Exposed for tests
 * and the fuzzer. Returns 0, or -EPROTO when the text does not parse (noted in missing[]). */
int snapshot_feed_file(struct snapshot *s, const char *name, const char *text, size_t len);
/* Feed one sock_diag reply buffer. 0 or a negative errno (-EPROTO: malformed). */
int snapshot_feed_diag(struct snapshot *s, const void *buf, size_t len);
/* Note something that could not be read. */
void snapshot_note_missing(struct snapshot *s, const char *what, const char *why);

#endif
