/*
 * netns_list — find, deduplicate and name the host's network namespaces (see netns_list.h).
 */
#include "kernel/netns_list.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/netns.h"
#include "kernel/procfs.h"

void kns_list_init(struct kns_list *l)
{
	memset(l, 0, sizeof(*l));
}

void kns_list_fini(struct kns_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct kns_ns *kns_list_get(struct kns_list *l, uint64_t dev, uint64_t ino)
{
	/* Most processes live in few namespaces: look at the last ones added first (a scan of
	 * /proc meets a container's processes together), then everything. */
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].ino == ino && l->v[i].dev == dev)
			return &l->v[i];
	if (l->n >= KNS_LIST_MAX) {
		l->dropped++;
		return NULL;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		struct kns_ns *nv = realloc(l->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	struct kns_ns *ns = &l->v[l->n++];
	memset(ns, 0, sizeof(*ns));
	ns->dev = dev;
	ns->ino = ino;
	return ns;
}

bool kns_ns_add_proc(struct kns_ns *ns, int pid)
{
	ns->nprocs++;
	if (pid > 0 && (ns->pid == 0 || pid < ns->pid)) {
		ns->pid = pid;
		return true;
	}
	return false;
}

void kns_ns_add_name(struct kns_ns *ns, const char *name)
{
	if (!kns_name_ok(name))
		return;
	if (!ns->name[0] || strcmp(name, ns->name) < 0)
		snprintf(ns->name, sizeof(ns->name), "%s", name);
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* A pod uid: 36 characters, 8-4-4-4-12 hex digits joined by '-' (cgroupfs) or '_' (systemd
 * slices, where '-' separates the slice hierarchy). */
static bool uuidish(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;
		if (sep ? (s[i] != '-' && s[i] != '_') : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

static void copy_n(char *dst, size_t dl, const char *src, size_t n)
{
	if (!dl)
		return;
	if (n >= dl)
		n = dl - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The runtime a "<prefix>-<64 hex>.scope" unit names; NULL for a runtime's helper process
 * (conmon) that is not the container. */
static const char *scope_runtime(const char *prefix, size_t n)
{
	static const struct {
		const char *prefix, *runtime;
	} map[] = {
	    {"docker", "docker"},
	    {"cri-containerd", "containerd"},
	    {"containerd", "containerd"},
	    {"nerdctl", "containerd"},
	    {"crio", "cri-o"},
	    {"libpod", "podman"},
	    {"cri-dockerd", "docker"},
	};
	if ((n == 11 && strncmp(prefix, "crio-conmon", n) == 0) ||
	    (n == 13 && strncmp(prefix, "libpod-conmon", n) == 0))
		return NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].prefix) == n && strncmp(prefix, map[i].prefix, n) == 0)
			return map[i].runtime;
	return "";
}

#define CONTAINER_ID_LEN 64 /* docker, containerd, CRI-O and podman ids: sha256 in hex */

int kns_cgroup_path_ids(const char *path, char *runtime, size_t rl, char *container, size_t cl,
			char *pod, size_t pl)
{
	const char *p = path, *prev = NULL;
	size_t prevn = 0;
	bool docker_parent = false, k8s_io = false;
	int found = 0;

	copy_n(runtime, rl, "", 0);
	copy_n(container, cl, "", 0);
	copy_n(pod, pl, "", 0);
	while (p && *p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!n)
			break;
		size_t bn = n;
		if (bn > 6 && (strncmp(p + bn - 6, ".scope", 6) == 0 ||
			       strncmp(p + bn - 6, ".slice", 6) == 0))
			bn -= 6;
		/* pod: "pod<uid>" (cgroupfs) or "kubepods-<qos>-pod<uid>.slice" (systemd) */
		if (bn == 39 && strncmp(p, "pod", 3) == 0 && uuidish(p + 3, 36)) {
			copy_n(pod, pl, p + 3, 36);
			found = 1;
		} else if (bn > 40 && strncmp(p + bn - 40, "-pod", 4) == 0 &&
			   uuidish(p + bn - 36, 36)) {
			copy_n(pod, pl, p + bn - 36, 36);
			found = 1;
		}
		/* container: "<64 hex>" or "<runtime>-<64 hex>.scope" */
		if (bn == CONTAINER_ID_LEN && all_hex(p, bn)) {
			copy_n(container, cl, p, bn);
			/* a bare id: the runtime shows in a parent (docker/, moby/, k8s.io/) */
			if (docker_parent)
				copy_n(runtime, rl, "docker", 6);
			else if (k8s_io)
				copy_n(runtime, rl, "containerd", 10);
			found = 1;
		} else if (bn > CONTAINER_ID_LEN + 1 && p[bn - CONTAINER_ID_LEN - 1] == '-' &&
			   all_hex(p + bn - CONTAINER_ID_LEN, CONTAINER_ID_LEN)) {
			const char *rt = scope_runtime(p, bn - CONTAINER_ID_LEN - 1);
			if (rt) {
				copy_n(container, cl, p + bn - CONTAINER_ID_LEN, CONTAINER_ID_LEN);
				copy_n(runtime, rl, rt, strlen(rt));
				found = 1;
			}
		} else if (n > 12 && strncmp(p, "lxc.payload.", 12) == 0) {
			/* LXC 4+: lxc.payload.NAME; older: lxc/NAME */
			copy_n(container, cl, p + 12, n - 12);
			copy_n(runtime, rl, "lxc", 3);
			found = 1;
		} else if (prev && prevn == 3 && strncmp(prev, "lxc", 3) == 0 &&
			   (!cl || !container[0])) {
			copy_n(container, cl, p, n);
			copy_n(runtime, rl, "lxc", 3);
			found = 1;
		}
		if ((n == 6 && strncmp(p, "docker", 6) == 0) ||
		    (n == 4 && strncmp(p, "moby", 4) == 0))
			docker_parent = true;
		if (n == 6 && strncmp(p, "k8s.io", 6) == 0)
			k8s_io = true;
		prev = p;
		prevn = n;
		p = e;
	}
	for (char *c = pod; pl && *c; c++)
		if (*c == '_')
			*c = '-';
	return found;
}

void kns_cgroup_parse(const char *text, struct kns_ns *ns)
{
	char path[256], fallback[256] = "", unified[256] = "";
	const char *line = text;

	ns->cgroup[0] = ns->runtime[0] = ns->container[0] = ns->pod[0] = '\0';
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', n);
		const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			copy_n(path, sizeof(path), c2 + 1, n - (size_t)(c2 + 1 - line));
			if (kns_cgroup_path_ids(path, ns->runtime, sizeof(ns->runtime),
						ns->container, sizeof(ns->container), ns->pod,
						sizeof(ns->pod))) {
				snprintf(ns->cgroup, sizeof(ns->cgroup), "%s", path);
				return;
			}
			if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1)
				snprintf(unified, sizeof(unified), "%s", path);
			else if (!fallback[0])
				snprintf(fallback, sizeof(fallback), "%s", path);
		}
		line = nl ? nl + 1 : NULL;
	}
	snprintf(ns->cgroup, sizeof(ns->cgroup), "%s", unified[0] ? unified : fallback);
}

const char *kns_ns_label(const struct kns_ns *ns, char *buf, size_t len)
{
	size_t o;

	if (ns->name[0]) {
		snprintf(buf, len, "%s", ns->name);
		return buf;
	}
	if (ns->host)
		o = (size_t)snprintf(buf, len, "host");
	else if (ns->pid)
		o = (size_t)snprintf(buf, len, "pid %d (%s)", ns->pid,
				     ns->comm[0] ? ns->comm : "?");
	else
		o = (size_t)snprintf(buf, len, "inode %llu", (unsigned long long)ns->ino);
	if (!ns->host && ns->container[0] && o < len)
		o += (size_t)snprintf(buf + o, len - o, " %s%s%.12s",
				      ns->runtime[0] ? ns->runtime : "container", ":",
				      ns->container);
	if (!ns->host && ns->pod[0] && o < len)
		snprintf(buf + o, len - o, " pod %s", ns->pod);
	return buf;
}

static int stat_ns(const char *path, uint64_t *dev, uint64_t *ino)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

static int scan_run_netns(struct kns_list *l, uint64_t nsfs_dev)
{
	struct dirent **ents = NULL;
	int n = scandir("/run/netns", &ents, NULL, alphasort);

	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		char path[128];
		uint64_t dev = 0, ino = 0;
		const char *name = ents[i]->d_name;
		if (kns_name_ok(name) && name[0] != '.') {
			snprintf(path, sizeof(path), "/run/netns/%.63s", name);
			/* a name whose mount is gone (ip netns died half-way) is a plain file */
			if (stat_ns(path, &dev, &ino) < 0 || dev != nsfs_dev) {
				l->stale++;
			} else {
				struct kns_ns *ns = kns_list_get(l, dev, ino);
				if (ns)
					kns_ns_add_name(ns, name);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static int scan_proc(struct kns_list *l, char *err, size_t el)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d) {
		int rc = -errno;
		snprintf(err, el, "cannot list /proc: %s", strerror(-rc));
		return rc;
	}
	while ((e = readdir(d))) {
		char path[64];
		uint64_t dev = 0, ino = 0;
		int rc;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid > 0x7fffffff)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
		rc = stat_ns(path, &dev, &ino);
		if (rc == -ENOENT || rc == -ESRCH)
			continue; /* exited meanwhile */
		if (rc < 0) {
			l->unreadable++;
			continue;
		}
		struct kns_ns *ns = kns_list_get(l, dev, ino);
		if (!ns && l->n < KNS_LIST_MAX) {
			closedir(d);
			snprintf(err, el, "out of memory");
			return -ENOMEM;
		}
		if (ns)
			kns_ns_add_proc(ns, (int)pid);
	}
	closedir(d);
	return 0;
}

int kns_list_scan(struct kns_list *l, char *err, size_t el)
{
	uint64_t sdev = 0, sino = 0, hdev = 0, hino = 0;
	int rc;

	rc = stat_ns("/proc/thread-self/ns/net", &sdev, &sino);
	if (rc < 0) {
		snprintf(err, el, "cannot read /proc/thread-self/ns/net: %s", strerror(-rc));
		return rc;
	}
	bool have_host = stat_ns("/proc/1/ns/net", &hdev, &hino) == 0;
	/* every nsfs inode is on the same device: a /run/netns entry elsewhere is no namespace */
	rc = scan_run_netns(l, sdev);
	if (rc == 0)
		rc = scan_proc(l, err, el);
	else
		snprintf(err, el, "cannot list /run/netns: %s", strerror(-rc));
	if (rc < 0)
		return rc;
	if (!kns_list_get(l, sdev, sino)) {
		snprintf(err, el, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct kns_ns *ns = &l->v[i];
		char path[64], *text = NULL;
		size_t len;
		ns->self = ns->dev == sdev && ns->ino == sino;
		ns->host = have_host && ns->dev == hdev && ns->ino == hino;
		if (!ns->pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", ns->pid);
		if (kproc_read(path, 256, &text, &len) == 0) {
			text[strcspn(text, "\n")] = '\0';
			snprintf(ns->comm, sizeof(ns->comm), "%s", text);
			free(text);
		}
		snprintf(path, sizeof(path), "/proc/%d/cgroup", ns->pid);
		if (kproc_read(path, 64 * 1024, &text, &len) == 0) {
			kns_cgroup_parse(text, ns);
			free(text);
		}
	}
	return 0;
}

int kns_open(const struct kns_ns *ns)
{
	char path[128];
	struct stat st;
	int fd;

	if (ns->name[0])
		snprintf(path, sizeof(path), "/run/netns/%s", ns->name);
	else if (ns->self)
		snprintf(path, sizeof(path), "/proc/thread-self/ns/net");
	else if (ns->pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/net", ns->pid);
	else if (ns->host)
		snprintf(path, sizeof(path), "/proc/1/ns/net");
	else
		return -ESRCH;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != ns->dev ||
	    (uint64_t)st.st_ino != ns->ino) {
		close(fd); /* the name or pid now stands for something else: ours is gone */
		return -ESRCH;
	}
	return fd;
}
