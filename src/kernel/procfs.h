/*
 * procfs — what /proc tells about TCP: sysctls, the SNMP/netstat counters, sockstat and the
 * TIME-WAIT slab. Readers return whole files as text; parsers are pure functions over that
 * text (they are what a replayed capture goes through) and are safe on arbitrary bytes.
 */
#ifndef TWKIT_KERNEL_PROCFS_H
#define TWKIT_KERNEL_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Read a whole file (proc files report size 0, so read until EOF) into a NUL-terminated
 * malloc'd buffer, at most `max` bytes. Returns 0 with *buf owned by the caller, or -errno.
 */
int kproc_read(const char *path, size_t max, char **buf, size_t *len);
/* "net.ipv4.tcp_tw_reuse" -> "/proc/sys/net/ipv4/tcp_tw_reuse". buf needs >= 128 bytes. */
int kproc_sysctl_path(const char *name, char *buf, size_t len);
/* Read one sysctl of the current netns; trailing newline removed; tabs become spaces. */
int kproc_sysctl_read(const char *name, char *buf, size_t len);
/* net.ipv4.ip_local_port_range of the current netns. 0, -errno, or -EPROTO if malformed. */
int kproc_port_range(uint16_t *lo, uint16_t *hi);
/* Write one sysctl (in the current netns). 0 or -errno. */
int kproc_sysctl_write(const char *name, const char *value);

/* A table of named counters, "TcpExt.TW" style (prefix without the colon, a dot, name). */
struct kcounter {
	char name[56];
	uint64_t value;
};
struct kcounters {
	int n, cap;
	struct kcounter *v;
};
void kcounters_init(struct kcounters *c);
void kcounters_fini(struct kcounters *c);
/* Set (or add) one counter. 0 or -ENOMEM. */
int kcounters_set(struct kcounters *c, const char *name, uint64_t value);
/* Look a counter up: 0 with *value, or -ENOENT. */
int kcounters_get(const struct kcounters *c, const char *name, uint64_t *value);

/*
 * Parse /proc/net/netstat or /proc/net/snmp text: pairs of lines "Prefix: names..." and
 * "Prefix: values...". Adds "Prefix.Name" counters. Returns the number added, or -EPROTO when
 * a pair does not line up (prefixes differ, counts differ, a value is not a number).
 * Negative values (snmp's MaxConn -1) are stored as 0.
 */
int kproc_parse_pairs(const char *text, struct kcounters *c);
/*
 * Parse /proc/net/sockstat(6): lines "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1". Adds
 * "sockstat.TCP.tw" etc. (sockstat6 gives "sockstat6.TCP6.inuse"; pass the prefix). Returns the
 * number added or -EPROTO.
 */
int kproc_parse_sockstat(const char *text, const char *prefix, struct kcounters *c);
/*
 * Object size of slab cache `cache` ("tw_sock_TCP") in /proc/slabinfo text, and its active
 * object count. 0, or -ENOENT when the cache is not listed, -EPROTO on a malformed line.
 */
int kproc_parse_slab(const char *text, const char *cache, uint32_t *objsize, uint64_t *active);

#endif
