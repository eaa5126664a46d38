/*
 * netns_list — every network namespace of the host: the ones named in /run/netns (what
 * `ip netns add` makes) and the ones held by a process (/proc/PID/ns/net), deduplicated by
 * the namespace's identity (st_dev, st_ino of its nsfs inode), each with what names it: its
 * `ip netns` name, else a process inside it (pid, comm) and that process's cgroup, from which
 * a container id and a Kubernetes pod uid are read (docker, containerd, CRI-O, podman, LXC;
 * cgroupfs and systemd spellings).
 *
 * The list, dedup and cgroup parsing are pure (tested without root); kns_list_scan and
 * kns_open read the live host. Opening another process's namespace needs root
 * (CAP_SYS_PTRACE to read its ns link, CAP_SYS_ADMIN to setns into it).
 */
#ifndef TWKIT_KERNEL_NETNS_LIST_H
#define TWKIT_KERNEL_NETNS_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A namespace beyond this many is not scanned (counted in kns_list.dropped): bounded memory. */
#define KNS_LIST_MAX 65536

struct kns_ns {
	uint64_t dev, ino;  /* identity of the nsfs inode */
	char name[64];	    /* its `ip netns` name ("" none; the first by name when several) */
	int pid;	    /* lowest pid inside it (0: none seen) */
	char comm[17];	    /* that process's comm */
	char cgroup[256];   /* that process's cgroup path ("" unknown), truncated */
	char runtime[16];   /* container runtime read from the cgroup ("" none) */
	char container[80]; /* container id or name ("" none) */
	char pod[40];	    /* Kubernetes pod uid ("" none) */
	unsigned nprocs;    /* processes seen inside */
	bool host;	    /* the namespace of pid 1 */
	bool self;	    /* the namespace of the calling thread */
};

struct kns_list {
	struct kns_ns *v;
	size_t n, cap;
	unsigned stale;	     /* /run/netns entries that are not a mounted namespace */
	unsigned dropped;    /* namespaces past KNS_LIST_MAX */
	unsigned unreadable; /* processes whose ns link could not be read (not gone) */
};

void kns_list_init(struct kns_list *l);
void kns_list_fini(struct kns_list *l);
/* The entry of namespace (dev, ino), added (zeroed, identity set) when new. NULL when the
 * list is full (KNS_LIST_MAX, counted in dropped) or out of memory. */
struct kns_ns *kns_list_get(struct kns_list *l, uint64_t dev, uint64_t ino);
/* Note a process inside ns: the lowest pid names it (the first process of a container is its
 * init or pause process). Returns true when pid became the naming process. */
bool kns_ns_add_proc(struct kns_ns *ns, int pid);
/* Note an `ip netns` name: the smallest by strcmp is kept. */
void kns_ns_add_name(struct kns_ns *ns, const char *name);

/*
 * Read /proc/PID/cgroup text: picks the path that names a container or pod (the unified
 * "0::" line when none does) into ns->cgroup, and fills runtime, container and pod. Pure.
 */
void kns_cgroup_parse(const char *text, struct kns_ns *ns);
/* One cgroup path -> runtime, container, pod (each "" when absent; a buffer of length 0 is
 * not touched, so it may be NULL). Returns 1 when it named a container or a pod, else 0.
 * Pure. */
int kns_cgroup_path_ids(const char *path, char *runtime, size_t rl, char *container, size_t cl,
			char *pod, size_t pl);
/* A short name for people: the ip netns name, "host", or "pid 123 (comm)" plus container /
 * pod. buf >= 64 bytes. */
const char *kns_ns_label(const struct kns_ns *ns, char *buf, size_t len);

/* Scan /run/netns and /proc/[pid]/ns/net into l, then read the comm and cgroup of each
 * namespace's naming process. 0 or -errno (-ENOMEM; /proc unreadable) with err. */
int kns_list_scan(struct kns_list *l, char *err, size_t el);
/* Open ns again for kns_enter_fd (by name, else by its process, else /proc/1 or thread-self
 * for the host's / this thread's), checking that what opens is still that namespace. Returns
 * the fd, or -ESRCH when it is gone (its name removed, its last process exited) or -errno. */
int kns_open(const struct kns_ns *ns);

#endif
