/*
 * trace_cgroup — names for the numbers the kernel hands us: cgroup id -> path (cgroup v2:
 * the id is the cgroup directory's inode number), container id in a path, netns inode -> the
 * name `ip netns` gave it. The cache is bounded: past TRACE_CG_MAX ids, lookups still work
 * but are not remembered.
 */
#include "trace/trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/netns_list.h"

#define TRACE_CG_MAX 4096
#define TRACE_CG_DEPTH 16 /* docker and kubepods paths are 3 to 6 deep */
#define TRACE_CG_WALK_MAX 100000 /* directories visited per walk, whatever the host holds */

struct cg_ent {
	uint64_t id;
	char *path; /* NULL: looked up, not found */
};

struct trace_cg {
	char root[256]; /* cgroup2 mount point; "" when none */
	struct cg_ent e[TRACE_CG_MAX];
	size_t n;
};

/* The cgroup2 mount point from /proc/self/mountinfo (field 5, fstype after " - "). */
static void find_cgroup2(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char mnt[512], *sep = strstr(line, " - ");

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 && strlen(mnt) < len) {
			snprintf(out, len, "%s", mnt);
			break;
		}
	}
	fclose(f);
}

struct trace_cg *trace_cg_new(void)
{
	struct trace_cg *c = calloc(1, sizeof(*c));

	if (c)
		find_cgroup2(c->root, sizeof(c->root));
	return c;
}

void trace_cg_free(struct trace_cg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].path);
	free(c);
}

/* Depth-first search for the directory whose inode is id; rel is the path so far. */
static int walk(int dfd, const char *rel, uint64_t id, int depth, long *budget, char *out,
		size_t len)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int found = 0;

	if (!d) {
		close(dfd);
		return 0;
	}
	while (!found && (de = readdir(d)) && --*budget > 0) {
		char sub[4096];
		struct stat st;
		int fd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name) >= (int)sizeof(sub))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == id) {
			snprintf(out, len, "%s", sub);
			close(fd);
			found = 1;
		} else if (depth + 1 < TRACE_CG_DEPTH) {
			found = walk(fd, sub, id, depth + 1, budget, out, len);
		} else {
			close(fd);
		}
	}
	closedir(d);
	return found;
}

const char *trace_cg_path(struct trace_cg *c, uint64_t id)
{
	char path[4096];
	long budget = TRACE_CG_WALK_MAX;
	struct stat st;
	int fd, found = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].id == id)
			return c->e[i].path;
	if (!c->root[0])
		return NULL;
	fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == id) {
		snprintf(path, sizeof(path), "/");
		found = 1;
		close(fd);
	} else {
		found = walk(fd, "", id, 0, &budget, path, sizeof(path));
	}
	if (c->n < TRACE_CG_MAX) {
		c->e[c->n].id = id;
		c->e[c->n].path = found ? strdup(path) : NULL;
		return c->e[c->n++].path;
	}
	return NULL; /* cache full: the caller shows the id */
}

int trace_cg_container_id(const char *path, char *out, size_t len)
{
	char runtime[16], id[80], pod[40];

	if (!path || len < 65 ||
	    !kns_cgroup_path_ids(path, runtime, sizeof(runtime), id, sizeof(id), pod, sizeof(pod)))
		return 0;
	/* 64 lowercase hex digits only: an LXC container's name, or a pod alone, gives 0 */
	if (strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return 0;
	memcpy(out, id, 65);
	return 1;
}

int trace_netns_name(uint32_t inum, char *out, size_t len)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && (uint32_t)st.st_ino == inum) {
			snprintf(out, len, "%s", de->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found;
}
