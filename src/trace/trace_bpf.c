/*
 * trace_bpf — loads bpf/trace.bpf.c through its bpftool-generated skeleton, attaches it, and
 * reads its maps. The kernel keeps cumulative counters; a read copies them out, it never
 * clears them (so no event falls between two reads).
 */
#include "trace/trace.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace.skel.h"

struct trace_bpf {
	struct twtrace *skel;
};

int trace_data_init(struct trace_data *d)
{
	memset(d, 0, sizeof(*d));
	d->fail = calloc(TRACE_MAX_FAIL_KEYS, sizeof(*d->fail));
	d->close = calloc(TRACE_MAX_CLOSE_KEYS, sizeof(*d->close));
	d->lat = calloc(TRACE_MAX_LAT_KEYS, sizeof(*d->lat));
	d->synrt = calloc(TRACE_MAX_SYNRT_KEYS, sizeof(*d->synrt));
	if (!d->fail || !d->close || !d->lat || !d->synrt) {
		trace_data_fini(d);
		return -ENOMEM;
	}
	return 0;
}

void trace_data_fini(struct trace_data *d)
{
	if (!d)
		return;
	free(d->fail);
	free(d->close);
	free(d->lat);
	free(d->synrt);
	memset(d, 0, sizeof(*d));
}

/* libbpf's own messages: warnings only (its debug chatter is not the operator's business). */
__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level level,
							      const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char p[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (access(p, F_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

int trace_bpf_check(char *what, size_t len)
{
	static const char *const sys_tps[] = { "syscalls/sys_enter_connect",
					       "syscalls/sys_exit_connect" };
	static const char *const btf_tps[][2] = {
		{ "btf_trace_inet_sock_set_state", "sock:inet_sock_set_state" },
		{ "btf_trace_tcp_retransmit_skb", "tcp:tcp_retransmit_skb" },
	};
	const char *tfs;
	struct btf *btf;
	char p[160];

	if (geteuid() != 0) {
		snprintf(what, len, "root (loading eBPF programs needs CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(what, len,
			 "kernel BTF (/sys/kernel/btf/vmlinux is missing: a kernel built without "
			 "CONFIG_DEBUG_INFO_BTF)");
		return -ENOENT;
	}
	tfs = tracefs_dir();
	if (!tfs) {
		/* tracefs is where the syscall tracepoints' ids live; mounting it changes nothing
		 * else on the host (the kernel mounts it there by itself on most systems) */
		if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0 ||
		    !(tfs = tracefs_dir())) {
			snprintf(what, len,
				 "tracefs (not mounted, and mounting it on /sys/kernel/tracing "
				 "failed: %s)",
				 strerror(errno));
			return -ENOENT;
		}
	}
	for (size_t i = 0; i < sizeof(sys_tps) / sizeof(sys_tps[0]); i++) {
		snprintf(p, sizeof(p), "%s/events/%s/id", tfs, sys_tps[i]);
		if (access(p, R_OK) != 0) {
			snprintf(what, len, "tracepoint %s (%s is missing: CONFIG_FTRACE_SYSCALLS)",
				 sys_tps[i], p);
			return -ENOENT;
		}
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(what, len, "kernel BTF (/sys/kernel/btf/vmlinux does not parse: %s)",
			 strerror(errno));
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(btf_tps) / sizeof(btf_tps[0]); i++) {
		if (btf__find_by_name_kind(btf, btf_tps[i][0], BTF_KIND_TYPEDEF) < 0) {
			snprintf(what, len, "tracepoint %s (no %s in the kernel's BTF)",
				 btf_tps[i][1], btf_tps[i][0]);
			btf__free(btf);
			return -ENOENT;
		}
	}
	btf__free(btf);
	return 0;
}

int trace_bpf_open(struct trace_bpf **out, uint32_t netns, char *err, size_t errlen)
{
	struct trace_bpf *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	libbpf_set_print(libbpf_print);
	t->skel = twtrace__open();
	if (!t->skel) {
		rc = -errno;
		snprintf(err, errlen, "opening the eBPF object: %s", strerror(-rc));
		goto fail;
	}
	t->skel->rodata->target_netns = netns;
	rc = twtrace__load(t->skel);
	if (rc) {
		snprintf(err, errlen, "loading the eBPF programs: %s (libbpf's messages above)",
			 strerror(-rc));
		goto fail;
	}
	rc = twtrace__attach(t->skel);
	if (rc) {
		snprintf(err, errlen, "attaching to the tracepoints: %s (libbpf's messages above)",
			 strerror(-rc));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	trace_bpf_close(t);
	return rc < 0 ? rc : -EINVAL;
}

void trace_bpf_close(struct trace_bpf *t)
{
	if (!t)
		return;
	twtrace__destroy(t->skel);
	free(t);
}

/* Copy a hash map of key -> u64 into rows of (key, count); returns the row count. */
static size_t read_counts(int fd, void *rows, size_t rowsz, size_t keysz, size_t cap)
{
	unsigned char key[sizeof(struct trace_fail_key)], next[sizeof(struct trace_fail_key)];
	size_t n = 0;
	void *prev = NULL;

	while (n < cap && bpf_map_get_next_key(fd, prev, next) == 0) {
		unsigned char *row = (unsigned char *)rows + n * rowsz;
		uint64_t v;

		memcpy(key, next, keysz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, &v) != 0)
			continue; /* deleted meanwhile */
		memcpy(row, key, keysz);
		memcpy(row + rowsz - sizeof(uint64_t), &v, sizeof(v));
		n++;
	}
	return n;
}

/* Copy the closer table: key -> (active closes, time-waits). */
static size_t read_closes(int fd, struct trace_close *rows, size_t cap)
{
	struct trace_close_key key, next;
	struct trace_close_val v;
	size_t n = 0;
	void *prev = NULL;

	while (n < cap && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) != 0)
			continue;
		rows[n].k = key;
		rows[n].count = v.closes;
		rows[n].time_waits = v.time_waits;
		n++;
	}
	return n;
}

int trace_bpf_read(struct trace_bpf *t, struct trace_data *d)
{
	struct twtrace *s = t->skel;
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *percpu;
	struct trace_addr k, nk;
	struct trace_lat_val *lv;
	struct bpf_program *p;
	void *prev = NULL;

	_Static_assert(sizeof(struct trace_close_key) <= sizeof(struct trace_fail_key), "key buf");
	_Static_assert(offsetof(struct trace_fail, count) + 8 == sizeof(struct trace_fail), "row");
	_Static_assert(offsetof(struct trace_synrt, count) + 8 == sizeof(struct trace_synrt), "row");
	if (ncpu <= 0)
		return -EINVAL;
	d->nfail = read_counts(bpf_map__fd(s->maps.fails), d->fail, sizeof(*d->fail),
			       sizeof(d->fail->k), TRACE_MAX_FAIL_KEYS);
	d->nclose = read_closes(bpf_map__fd(s->maps.closes), d->close, TRACE_MAX_CLOSE_KEYS);
	d->nsynrt = read_counts(bpf_map__fd(s->maps.synrt), d->synrt, sizeof(*d->synrt),
				sizeof(d->synrt->k), TRACE_MAX_SYNRT_KEYS);
	lv = malloc(sizeof(*lv));
	percpu = calloc((size_t)ncpu, sizeof(uint64_t));
	if (!lv || !percpu) {
		free(lv);
		free(percpu);
		return -ENOMEM;
	}
	d->nlat = 0;
	d->connects = 0;
	while (d->nlat < TRACE_MAX_LAT_KEYS &&
	       bpf_map_get_next_key(bpf_map__fd(s->maps.lat), prev, &nk) == 0) {
		struct trace_lat *l = &d->lat[d->nlat];

		k = nk;
		prev = &k;
		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.lat), &k, lv) != 0 || !lv->count)
			continue;
		l->k = k;
		hist_init(&l->h);
		for (int i = 0; i < TRACE_HIST_BUCKETS; i++)
			if (lv->b[i])
				hist_record_n(&l->h, trace_hist_bucket_low(i), lv->b[i]);
		if (lv->max_ns > l->h.max)
			l->h.max = lv->max_ns;
		d->connects += l->h.count;
		d->nlat++;
	}
	free(lv);
	d->dropped = 0;
	for (uint32_t i = 0; i < TRACE_STAT_N; i++) {
		d->stat[i] = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.stats), &i, percpu) == 0)
			for (int c = 0; c < ncpu; c++)
				d->stat[i] += percpu[c];
		d->dropped += d->stat[i];
	}
	free(percpu);
	/* A program that fires while it already runs on this CPU (a softirq's state change
	 * interrupting a process's) is skipped by the kernel: its event is lost, so counted */
	d->missed = 0;
	bpf_object__for_each_program(p, s->obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0)
			d->missed += info.recursion_misses;
	}
	d->dropped += d->missed;
	return 0;
}
