// SPDX-License-Identifier: GPL-2.0
/*
 * trace.bpf.c — the in-kernel half of `twkit trace`: counts connect() failures by errno x
 * destination x owner, active closes by owner x peer, connect() time per destination and SYN
 * retransmissions per destination, in fixed-size hash maps read by src/trace/trace_bpf.c.
 *
 * Tracepoints only (kprobes and fentry are not available everywhere we run):
 *   syscalls:sys_enter_connect / sys_exit_connect  the call, its time and synchronous errno
 *   tp_btf inet_sock_set_state     CLOSE->SYN_SENT (inside connect), SYN_SENT->*, ESTAB->FIN_WAIT1,
 *                                  FIN_WAIT2/CLOSING->CLOSE (an active closer's TIME-WAIT)
 *   (sock:inet_sk_error_report fires after the socket is already CLOSE since 6.10's
 *   tcp_done_with_error; the error it reports is sk_err, read at SYN_SENT -> CLOSE instead)
 *   tp_btf tcp_retransmit_skb      retransmissions while in SYN_SENT
 *
 * Invariant: an error is counted once, and the common case costs no per-socket map entry.
 * sys_exit_connect decides every outcome known when the call returns: its return value, or,
 * for EINPROGRESS, the socket's state and sk_err read there (a loopback SYN-ACK or RST is
 * handled before the call returns). Only a connect still in SYN_SENT then gets a `pending`
 * entry, and its later SYN_SENT -> * transition counts it. An outcome racing with that insert
 * is settled by a compare-and-swap on the entry after a full barrier on each side (each side
 * stores, fences, then loads what the other stored), so it is counted once, never zero times.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "trace/trace_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINTR 4
#define EALREADY 114
#define EINPROGRESS 115
#define EISCONN 106

enum {
	TCP_ESTABLISHED_ = 1,
	TCP_SYN_SENT_ = 2,
	TCP_FIN_WAIT1_ = 4,
	TCP_FIN_WAIT2_ = 5,
	TCP_CLOSE_ = 7,
	TCP_CLOSING_ = 11,
};
#define RCV_SHUTDOWN_ 1

/* Set by the loader before load: 0 = every namespace, else only this netns inode. */
const volatile __u32 target_netns = 0;

/*
 * Threads inside connect(): an array slot per thread id modulo its size, no hashing, no
 * allocation, no lock (the call is on every connection's path). The slot holds its owner's
 * tid; a second thread that finds its slot taken by a live call is not followed and counted
 * as dropped (TRACE_DROP_INFLIGHT), never mixed up. A slot left by a thread killed inside the
 * call is taken over after INFLIGHT_STALE_NS.
 */
#define INFLIGHT_STALE_NS (3600ULL * 1000000000ULL) /* longer than any SYN retry sequence */

struct inflight {
	__u64 ts;
	__u64 sk; /* set when the socket reaches SYN_SENT inside this call */
	__u64 uaddr; /* the caller's sockaddr: read only if the call fails before SYN_SENT */
	struct trace_addr dst; /* from the socket at SYN_SENT; netns: the task's, if filtering */
	__s32 fd;
	__u32 tid; /* 0: free */
};

/* A connect still in SYN_SENT when its call returned (EINPROGRESS): who, toward where. */
#define PEND_WAITING 1
#define PEND_DONE 2

struct pending {
	struct trace_owner o;
	struct trace_addr dst;
	__u32 state; /* PEND_*: whoever moves it WAITING -> DONE counts the outcome */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TRACE_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* The slot of the calling thread when it holds that thread's call, else NULL. */
static __always_inline struct inflight *inflight_mine(__u32 tid)
{
	__u32 k = tid % TRACE_MAX_INFLIGHT;
	struct inflight *in = bpf_map_lookup_elem(&inflight, &k);

	return in && in->tid == tid ? in : NULL;
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_MAX_PENDING);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_MAX_FAIL_KEYS);
	__type(key, struct trace_fail_key);
	__type(value, __u64);
} fails SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_MAX_CLOSE_KEYS);
	__type(key, struct trace_close_key);
	__type(value, struct trace_close_val);
} closes SEC(".maps");

/*
 * The closer row of a socket between its active close and its end: socket-local storage,
 * created at ESTABLISHED -> FIN_WAIT1 and deleted at its move to CLOSE. It lives and dies with
 * the socket (nothing to evict, no stale socket address reused by another socket), so memory
 * is bounded by the sockets that exist; an allocation that fails is counted
 * (TRACE_DROP_TWOWNER), never silently lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct trace_close_key);
} closing SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_MAX_LAT_KEYS);
	__type(key, struct trace_addr);
	__type(value, struct trace_lat_val);
} lat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_MAX_SYNRT_KEYS);
	__type(key, struct trace_addr);
	__type(value, __u64);
} synrt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_STAT_N);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* One word per CPU for full_barrier()'s locked add. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TRACE_STAT_N);
	__type(key, __u32);
	__type(value, __u64);
} fence SEC(".maps");

/* Zeroed initial values too large for the 512-byte BPF stack. */
struct trace_lat_val lat_zero = {};

static __always_inline void stat_inc(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &i);

	if (v)
		*v += 1; /* per-CPU: no other writer */
}

static __always_inline __u32 task_netns(void)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

static __always_inline void owner_fill(struct trace_owner *o, __u32 netns)
{
	o->cgroup = bpf_get_current_cgroup_id();
	o->pid = bpf_get_current_pid_tgid() >> 32;
	o->netns = netns;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* Remote address and port of a socket. */
static __always_inline void sk_peer(const struct sock *sk, struct trace_addr *a)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	a->family = fam;
	a->port = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (fam == AF_INET6)
		BPF_CORE_READ_INTO(&a->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	else {
		__u32 d4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		__builtin_memcpy(a->addr, &d4, 4);
	}
}

/* sk_peer for a BTF-typed socket (tp_btf): plain loads, no helper calls. */
static __always_inline void sk_peer_btf(const struct sock *sk, struct trace_addr *a)
{
	__u16 fam = sk->__sk_common.skc_family;

	a->family = fam;
	a->port = __builtin_bswap16(sk->__sk_common.skc_dport);
	if (fam == AF_INET6) {
		__builtin_memcpy(a->addr, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
	} else {
		__u32 d4 = sk->__sk_common.skc_daddr;

		__builtin_memcpy(a->addr, &d4, 4);
	}
}

static __always_inline void count_add(void *map, const void *key, __u32 drop)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, key);

	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	/* Lost the race to another CPU inserting the same key: add to its value. */
	if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(map, key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		stat_inc(drop);
}

/* Count an active close in its row; the row, or NULL when the table is full (counted). */
static __always_inline struct trace_close_val *close_add(const struct trace_close_key *k)
{
	struct trace_close_val one = { .closes = 1 }, *v = bpf_map_lookup_elem(&closes, k);

	if (v) {
		__sync_fetch_and_add(&v->closes, 1);
		return v;
	}
	if (bpf_map_update_elem(&closes, k, &one, BPF_NOEXIST) == 0)
		return bpf_map_lookup_elem(&closes, k);
	v = bpf_map_lookup_elem(&closes, k); /* another CPU inserted it first */
	if (v)
		__sync_fetch_and_add(&v->closes, 1);
	else
		stat_inc(TRACE_DROP_CLOSE);
	return v;
}

static __always_inline void fail_count(const struct trace_owner *o, const struct trace_addr *dst,
				       int err)
{
	struct trace_fail_key k = {};

	k.o = *o;
	k.dst = *dst;
	k.dst.netns = 0;
	k.err = err;
	count_add(&fails, &k, TRACE_DROP_FAIL);
}

/* Is fd a stream socket? Only asked on the failure path, before the socket reached SYN_SENT. */
static __always_inline int fd_is_stream(int fd)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return 0;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	so = BPF_CORE_READ(f, private_data);
	return so && BPF_CORE_READ(so, type) == SOCK_STREAM;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int tw_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), k = tid % TRACE_MAX_INFLIGHT, ns = 0;
	__u64 now = bpf_ktime_get_ns();
	struct inflight *slot;

	/* nothing read from the caller here: a TCP connect names its destination in the
	 * socket by SYN_SENT, and only a call failing before that needs the sockaddr */
	if (target_netns) {
		ns = task_netns();
		if (ns != target_netns)
			return 0;
	}
	slot = bpf_map_lookup_elem(&inflight, &k);
	if (!slot)
		return 0;
	if (slot->tid && slot->tid != tid && now - slot->ts < INFLIGHT_STALE_NS) {
		stat_inc(TRACE_DROP_INFLIGHT);
		return 0;
	}
	slot->ts = now;
	slot->sk = 0;
	slot->uaddr = ctx->args[1];
	slot->fd = (__s32)ctx->args[0];
	slot->dst.netns = ns;
	slot->tid = tid;
	return 0;
}

/* The destination of a call that failed before SYN_SENT, from its sockaddr; 0 if not inet. */
static __always_inline int user_dst(__u64 ua, struct trace_addr *a)
{
	struct sockaddr_in sin = {};

	/* the IPv4 form is the shortest inet sockaddr: read it whole, the family first */
	if (bpf_probe_read_user(&sin, sizeof(sin), (const void *)ua))
		return 0;
	if (sin.sin_family != AF_INET && sin.sin_family != AF_INET6)
		return 0;
	a->family = sin.sin_family;
	a->port = __builtin_bswap16(sin.sin_port);
	if (sin.sin_family == AF_INET) {
		__builtin_memcpy(a->addr, &sin.sin_addr.s_addr, 4);
	} else {
		struct sockaddr_in6 sin6 = {};

		if (bpf_probe_read_user(&sin6, sizeof(sin6), (const void *)ua))
			return 0;
		__builtin_memcpy(a->addr, &sin6.sin6_addr, 16);
	}
	return 1;
}

static __always_inline void lat_record(const struct trace_addr *dst, __u64 ns)
{
	struct trace_addr k = *dst;
	struct trace_lat_val *v;
	int b = trace_hist_bucket(ns);

	k.netns = 0;
	v = bpf_map_lookup_elem(&lat, &k);
	if (!v) {
		bpf_map_update_elem(&lat, &k, &lat_zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&lat, &k);
		if (!v) {
			stat_inc(TRACE_DROP_LAT);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	if (b >= 0 && b < TRACE_HIST_BUCKETS)
		__sync_fetch_and_add(&v->b[b], 1);
	if (ns > v->max_ns)
		v->max_ns = ns; /* a racing larger value may be overwritten: max is best effort */
}

/* A full memory barrier: a locked add on x86 (see the invariant at the top). */
static __always_inline void full_barrier(void)
{
	__u32 k = TRACE_STAT_N - 1;
	__u64 *v = bpf_map_lookup_elem(&fence, &k);

	if (v)
		__sync_fetch_and_add(v, 0);
}

/* sk_err of a socket that left SYN_SENT, 0 when it is still there or succeeded. */
static __always_inline int sk_outcome(const struct sock *sk, bool *left)
{
	int st = BPF_CORE_READ(sk, __sk_common.skc_state);

	*left = st != TCP_SYN_SENT_;
	return st == TCP_CLOSE_ ? BPF_CORE_READ(sk, sk_err) : 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tw_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *in = inflight_mine(tid);
	struct trace_owner o = {};
	struct trace_addr dst;
	const struct sock *sk;
	long ret = ctx->ret;
	int err = ret < 0 ? (int)-ret : 0;
	bool left;

	if (!in)
		return 0;
	sk = (const struct sock *)in->sk;
	dst = in->dst;
	__u32 task_ns = dst.netns; /* set at entry when filtering by namespace */
	if (!sk) {
		/* never reached SYN_SENT: a failure before it (no route, no permission ...), or
		 * not a TCP connect at all */
		bool real = err && err != EINPROGRESS && err != EALREADY && err != EINTR &&
			    err != EISCONN;

		__builtin_memset(&dst, 0, sizeof(dst));
		if (!real || !user_dst(in->uaddr, &dst) || !fd_is_stream(in->fd)) {
			in->tid = 0;
			return 0;
		}
	}
	dst.netns = 0;
	lat_record(&dst, bpf_ktime_get_ns() - in->ts);
	in->tid = 0; /* the slot is free again */
	if (!err || err == EISCONN)
		return 0;
	if (err == EINPROGRESS || err == EALREADY || err == EINTR) {
		/* the connect goes on without the caller */
		struct pending p = {};
		struct pending *pp;
		__u64 key = (__u64)sk;
		int aerr;

		if (!sk)
			return 0;
		aerr = sk_outcome(sk, &left);
		if (left && aerr <= 0)
			return 0; /* established inside the call (loopback) */
		owner_fill(&p.o, sk_netns(sk));
		p.dst = dst;
		if (left) {
			/* refused or unreachable inside the call: counted now */
			fail_count(&p.o, &dst, aerr);
			return 0;
		}
		p.state = PEND_WAITING;
		if (bpf_map_update_elem(&pending, &key, &p, BPF_ANY)) {
			stat_inc(TRACE_DROP_PENDING);
			return 0;
		}
		pp = bpf_map_lookup_elem(&pending, &key);
		if (!pp)
			return 0; /* the state change took it: counted there */
		full_barrier();
		aerr = sk_outcome(sk, &left);
		if (left && __sync_val_compare_and_swap(&pp->state, PEND_WAITING, PEND_DONE) ==
				    PEND_WAITING) {
			/* it left SYN_SENT while the entry went in, unseen by the state change */
			if (aerr > 0)
				fail_count(&p.o, &dst, aerr);
			bpf_map_delete_elem(&pending, &key);
		}
		return 0;
	}
	owner_fill(&o, task_ns ? task_ns : task_netns());
	fail_count(&o, &dst, err);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tw_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	if (oldstate == TCP_CLOSE_ && newstate == TCP_SYN_SENT_) {
		/* inside connect(), in the caller's context: which socket this call connects */
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		struct inflight *in = inflight_mine(tid);
		__u32 ns;

		if (!in)
			return 0;
		in->sk = (__u64)sk;
		ns = in->dst.netns;
		sk_peer_btf(sk, &in->dst);
		in->dst.netns = ns;
		return 0;
	}
	if (oldstate == TCP_SYN_SENT_) {
		/* a connect's outcome after its call returned. An asynchronous failure (RST, SYN
		 * timeout, ICMP error) stores its errno in sk_err, then moves the socket to
		 * CLOSE, then reports the error (tcp_done_with_error): read it here */
		__u64 key = (__u64)sk;
		struct pending *p;

		full_barrier();
		p = bpf_map_lookup_elem(&pending, &key);
		if (!p)
			return 0;
		if (__sync_val_compare_and_swap(&p->state, PEND_WAITING, PEND_DONE) ==
		    PEND_WAITING) {
			int err = newstate == TCP_CLOSE_ ? BPF_CORE_READ(sk, sk_err) : 0;

			if (err > 0)
				fail_count(&p->o, &p->dst, err);
			bpf_map_delete_elem(&pending, &key);
		}
		return 0;
	}
	if (oldstate == TCP_ESTABLISHED_ && newstate == TCP_FIN_WAIT1_) {
		/* an active close: close() or shutdown() in the closer's context */
		struct trace_close_key k = {};
		__u32 ns = sk_netns(sk);

		if (target_netns && ns != target_netns)
			return 0;
		owner_fill(&k.o, ns);
		sk_peer(sk, &k.peer);
		/* an accepted socket: its peer's port is an ephemeral one, a new row per
		 * connection; 0 keeps the rows per peer address. The child is a copy of its
		 * listener and keeps the listener's backlog limit, which a connecting socket
		 * never has (sk_userlocks' bound-port bit, by contrast, is cleared on the copy:
		 * measured on 6.18) */
		if (BPF_CORE_READ(sk, sk_max_ack_backlog))
			k.peer.port = 0;
		if (!close_add(&k))
			return 0;
		/* remember the row until the socket ends, to count its TIME-WAIT there */
		if (!bpf_sk_storage_get(&closing, (struct sock *)sk, &k,
					BPF_SK_STORAGE_GET_F_CREATE))
			stat_inc(TRACE_DROP_TWOWNER);
		return 0;
	}
	if (newstate == TCP_CLOSE_ &&
	    (oldstate == TCP_FIN_WAIT1_ || oldstate == TCP_FIN_WAIT2_ || oldstate == TCP_CLOSING_)) {
		/*
		 * The end of an actively closed socket. tcp_time_wait() hands a socket in
		 * FIN_WAIT2 or CLOSING to a timewait socket, then moves it to CLOSE here with no
		 * error set: in TIME-WAIT once the peer's FIN came (its receive side is shut
		 * down), or, for a socket already closed by its owner (close() shuts both sides
		 * down) whose peer has not closed yet, in the FIN-WAIT-2 substate, which turns
		 * into TIME-WAIT when the peer's FIN comes within tcp_fin_timeout (measured on
		 * 6.18: ss shows it as FIN-WAIT-2 meanwhile). Both are counted. A reset or a
		 * timeout stores sk_err first (tcp_done_with_error), and leaving FIN_WAIT1 for
		 * CLOSE is always one of those: not counted. Not visible here: a timewait socket
		 * refused by tcp_max_tw_buckets (the same path; the kernel counts it in
		 * TcpExt.TCPTimeWaitOverflow).
		 */
		struct trace_close_key *k = bpf_sk_storage_get(&closing, (struct sock *)sk, 0, 0);
		struct trace_close_val *v;

		if (!k)
			return 0; /* its close was not seen (before attach, or another netns) */
		if (oldstate != TCP_FIN_WAIT1_ && !sk->sk_err && (sk->sk_shutdown & RCV_SHUTDOWN_)) {
			v = bpf_map_lookup_elem(&closes, k);
			if (v)
				__sync_fetch_and_add(&v->time_waits, 1);
		}
		bpf_sk_storage_delete(&closing, (struct sock *)sk);
	}
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tw_retransmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	struct trace_addr k = {};

	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_SYN_SENT_)
		return 0;
	if (target_netns && sk_netns(sk) != target_netns)
		return 0;
	sk_peer(sk, &k);
	count_add(&synrt, &k, TRACE_DROP_SYNRT);
	return 0;
}
