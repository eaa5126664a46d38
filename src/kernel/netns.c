/*
 * netns — setns(2) into named namespaces (see netns.h).
 */
#include "kernel/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int kns_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	return n > 0 && n < 64 && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

int kns_enter_fd(int fd, int *saved)
{
	int cur = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (cur < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int rc = -errno;
		close(cur);
		return rc;
	}
	*saved = cur;
	return 0;
}

int kns_enter(const char *name, int *saved)
{
	char path[128];
	int fd, rc;

	if (!kns_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = kns_enter_fd(fd, saved);
	close(fd);
	return rc;
}

int kns_leave(int saved)
{
	int rc = setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;
	close(saved);
	return rc;
}
