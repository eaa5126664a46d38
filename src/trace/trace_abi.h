/*
 * trace_abi — what the eBPF side of `twkit trace` (bpf/trace.bpf.c) and its loader share: map
 * keys and values, the drop counters, and the latency histogram's bucket function.
 *
 * Compiled twice: by clang for the BPF target (after vmlinux.h, which defines the __u types)
 * and by the host compiler. Every struct is laid out without implicit padding so both sides
 * agree byte for byte (keys are hashed as raw bytes: a padding hole would split one key in two).
 */
#ifndef TWKIT_TRACE_TRACE_ABI_H
#define TWKIT_TRACE_TRACE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TRACE_COMM_LEN 16

/* Map sizes: fixed, so memory is bounded whatever the load; an event that finds its map full
 * is counted in trace_stats[TRACE_DROP_*] and reported as dropped_events. */
#define TRACE_MAX_INFLIGHT 65536 /* slots for threads inside connect(), by tid modulo */
#define TRACE_MAX_PENDING 65536	 /* non-blocking connects waiting for their SYN-ACK */
#define TRACE_MAX_FAIL_KEYS 8192
#define TRACE_MAX_CLOSE_KEYS 8192
#define TRACE_MAX_LAT_KEYS 1024
#define TRACE_MAX_SYNRT_KEYS 4096

/* Who did it: the task at the time, and the socket's network namespace. */
struct trace_owner {
	__u64 cgroup; /* cgroup v2 id (the cgroup directory's inode number) */
	__u32 pid;    /* thread group id */
	__u32 netns;  /* network namespace inode number */
	char comm[TRACE_COMM_LEN];
};

/* A remote endpoint. IPv4 is stored in addr[0..3] with family 2 (AF_INET). */
struct trace_addr {
	__u8 addr[16];
	__u16 port; /* host order */
	__u16 family;
	__u32 netns; /* 0 where the key is per destination only */
};

struct trace_fail_key {
	struct trace_owner o;
	struct trace_addr dst;
	__s32 err; /* positive errno */
	__u32 pad;
};

struct trace_close_key {
	struct trace_owner o;
	struct trace_addr peer; /* port 0: the closer accepted the connection (see docs/trace.md) */
};

/* A closer row's counters: its active closes, and the TIME-WAITs those closes led to. */
struct trace_close_val {
	__u64 closes;
	__u64 time_waits;
};

/* connect() system call time: the log-linear buckets of src/common/hist.h, capped lower. */
#define TRACE_HIST_SUB_BITS 4
#define TRACE_HIST_SUB (1 << TRACE_HIST_SUB_BITS)
#define TRACE_HIST_MAX_EXP 36 /* 2^36 ns ~ 69 s: longer connects land in the last bucket */
#define TRACE_HIST_BUCKETS (TRACE_HIST_SUB + (TRACE_HIST_MAX_EXP - TRACE_HIST_SUB_BITS) * TRACE_HIST_SUB)

struct trace_lat_val {
	__u64 count;
	__u64 max_ns;
	__u32 b[TRACE_HIST_BUCKETS];
};

enum TRACE_STAT {
	TRACE_DROP_INFLIGHT, /* connect() calls not followed: their slot held another's call */
	TRACE_DROP_PENDING,  /* non-blocking connects not followed (table full) */
	TRACE_DROP_FAIL,     /* failures not counted: failure table full */
	TRACE_DROP_CLOSE,    /* active closes not counted: closer table full */
	TRACE_DROP_LAT,	     /* latencies not recorded: destination table full */
	TRACE_DROP_SYNRT,    /* SYN retransmissions not counted: table full */
	TRACE_DROP_TWOWNER,  /* active closes whose TIME-WAIT cannot be followed (no storage) */
	TRACE_STAT_N,
};

/* Most significant bit of v > 0, without a count-leading-zeros instruction (BPF has none). */
static inline int trace_msb64(__u64 v)
{
	int r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

/* Bucket of a value in ns: the same index src/common/hist.c gives, up to TRACE_HIST_MAX_EXP. */
static inline int trace_hist_bucket(__u64 v)
{
	if (v < TRACE_HIST_SUB)
		return (int)v;
	int e = trace_msb64(v);
	if (e >= TRACE_HIST_MAX_EXP)
		return TRACE_HIST_BUCKETS - 1;
	int sub = (int)((v >> (e - TRACE_HIST_SUB_BITS)) & (TRACE_HIST_SUB - 1));
	return TRACE_HIST_SUB + (e - TRACE_HIST_SUB_BITS) * TRACE_HIST_SUB + sub;
}

/* Smallest value in bucket i (the inverse of trace_hist_bucket). */
static inline __u64 trace_hist_bucket_low(int i)
{
	if (i < TRACE_HIST_SUB)
		return (__u64)i;
	int e = (i - TRACE_HIST_SUB) / TRACE_HIST_SUB + TRACE_HIST_SUB_BITS;
	__u64 sub = (__u64)((i - TRACE_HIST_SUB) % TRACE_HIST_SUB);
	return (1ULL << e) + (sub << (e - TRACE_HIST_SUB_BITS));
}

#endif
