/*
 * snapshot — one look at a host's TCP state: every socket (sock_diag), the TIME-WAIT related
 * sysctls, the kernel counters, limits and the kernel release. Built the same way from a live
 * host (snapshot_collect) and from a capture (snapshot_from_capture): both feed raw bytes to
 * the same parsers, so a replay gives exactly what the live run gave.
 * Invariant: values that could not be read are marked absent (-1 / have_* false) and named in
 * missing[]; nothing is guessed here (defaults belong to the analysis, from model/).
 *
 * It also keeps the lines of the sysctl configuration files (sysctl.d(5): the *.conf files of
 * /etc/sysctl.d, then /etc/sysctl.conf) that set a key doctor reasons about, with file and line, because an
 * operator fixes the file, not the running value. A capture holds each file's text under the
 * name SNAP_CONF_PREFIX + path and a replay parses it again, like the /proc texts.
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
/* Config lines kept: the six keys of snap_conf_keys, each set a few times at most; when full,
 * superseded lines (a later one sets the same key) are dropped first, so the line in effect
 * for each key is always kept. */
#define SNAP_MAX_CONF_LINES 32
/* A sysctl file bigger than this is not a hand-written config file: skipped, noted. */
#define SNAP_CONF_FILE_MAX (1u << 20)
/* Config files read per run: more is a generator gone wrong, not a host's config. */
#define SNAP_CONF_MAX_FILES 256
/* Capture section (CAP_FILE) name of a config file: this prefix + the path it was read at. */
#define SNAP_CONF_PREFIX "sysctl.conf:"
/* Where sysctl --system and systemd-sysctl read, in the order they apply them (the later line
 * wins): the directory's *.conf files by name, then /etc/sysctl.conf. '\n'-separated. */
#define SNAP_CONF_DEFAULT "/etc/sysctl.d\n/etc/sysctl.conf"

/* One line of a sysctl config file that sets a key doctor reasons about. */
struct snap_conf_line {
	char key[40];    /* canonical dotted name, e.g. "net.ipv4.tcp_fin_timeout" */
	char file[200];  /* the path it was read at (a symlink's target), truncated */
	int line;        /* 1-based line number */
	bool dash;       /* "-key = value": systemd-sysctl ignores a failure to set it */
	char value[64];  /* the text after '=', blanks trimmed, truncated */
};

struct snap_settings {
	/* -1 when the sysctl does not exist on this kernel or could not be read */
	int tcp_timestamps, tcp_tw_reuse, tcp_tw_reuse_delay, tcp_tw_recycle;
	int tcp_fin_timeout, tcp_syn_retries;
	int64_t tcp_max_tw_buckets;
	bool have_ehash;               /* net.ipv4.tcp_ehash_entries was read (6.1+) */
	int64_t tcp_ehash_entries;     /* < 0: the netns shares the initial netns's table */
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
	int nconf;                           /* config lines, in the order they apply */
	struct snap_conf_line conf[SNAP_MAX_CONF_LINES];
	bool conf_dropped;                   /* superseded lines were dropped (noted once) */
};

/* The keys whose config lines are kept (dotted spelling), NULL-terminated. */
extern const char *const snap_conf_keys[];

void snapshot_init(struct snapshot *s);
void snapshot_fini(struct snapshot *s);

struct cap_writer;
/*
 * Collect from the running kernel, in the current network namespace. When rec is not NULL,
 * every raw input is also appended to the capture. Returns 0, or a negative errno when the
 * socket dump itself failed (err says what); unreadable /proc files only land in missing[].
 */
int snapshot_collect(struct snapshot *s, struct cap_writer *rec, char *err, size_t errlen);
/* Both families' sockets from one walk of the kernel's tables instead of one per family (the
 * table is shared by the namespaces of a host: a walk costs what all of them hold). Ignored
 * with a capture, whose sections stay one per family. */
#define SNAP_COLLECT_ONE_WALK 1u
/* No socket dump when this namespace's /proc/net/sockstat(6) counts no TCP socket at all
 * (none hashed in either family, no TIME-WAIT): the dump would walk the shared table for
 * nothing. Ignored with a capture. */
#define SNAP_COLLECT_SKIP_EMPTY 2u
/* snapshot_collect with SNAP_COLLECT_* flags. */
int snapshot_collect_flags(struct snapshot *s, struct cap_writer *rec, unsigned flags, char *err,
			   size_t errlen);

struct cap_reader;
/* Build from a parsed capture. 0, or -EINVAL with the reason in err (a corrupt dump). */
int snapshot_from_capture(struct snapshot *s, const struct cap_reader *r, char *err,
			  size_t errlen);

/* Feed one input by its canonical name (what capture sections are called). Exposed for tests
 * and the fuzzer. Returns 0, or -EPROTO when the text does not parse (noted in missing[]). */
int snapshot_feed_file(struct snapshot *s, const char *name, const char *text, size_t len);
/* Feed one sock_diag reply buffer. 0 or a negative errno (-EPROTO: malformed). */
int snapshot_feed_diag(struct snapshot *s, const void *buf, size_t len);
/*
 * Read the sysctl config files: paths is a '\n'-separated list of files and directories (a
 * directory contributes its *.conf files sorted by name), NULL for SNAP_CONF_DEFAULT. A file
 * met twice (a symlink such as /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf) is read once
 * and named by its target. With rec, each file's text is also appended to the capture. A
 * default path that does not exist is skipped quietly; anything else unreadable, too large
 * or past SNAP_CONF_MAX_FILES is noted in missing[]. Returns 0 or -ENOMEM.
 */
int snapshot_read_conf(struct snapshot *s, struct cap_writer *rec, const char *paths);
/* Parse one config file's text (what snapshot_feed_file does for a SNAP_CONF_PREFIX name):
 * appends the lines that set a key of snap_conf_keys. Blank lines, '#' and ';' comments and
 * lines without '=' are skipped; "net/ipv4/x" is "net.ipv4.x"; lines are read up to 255
 * bytes. Returns 0, or -EPROTO for text with a NUL or over SNAP_CONF_FILE_MAX (nothing kept). */
int snapshot_feed_conf(struct snapshot *s, const char *file, const char *text, size_t len);
/* The line that sets key last (the one in effect after a reboot), or NULL. */
const struct snap_conf_line *snapshot_conf_last(const struct snapshot *s, const char *key);
/* Note something that could not be read. */
void snapshot_note_missing(struct snapshot *s, const char *what, const char *why);

#endif
