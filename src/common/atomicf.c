/*
 * atomicf — temp + fsync + rename (see atomicf.h).
 */
#include "common/atomicf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Temporary names tried before giving up (each collision is another writer's file). */
#define ATOMICF_TRIES 16

static void release(struct atomicf *a)
{
	if (a->f)
		fclose(a->f);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a->tmp);
	free(a->base);
	memset(a, 0, sizeof(*a));
	a->dirfd = -1;
}

int atomicf_open(struct atomicf *a, const char *path)
{
	static const char cs[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const char *slash = strrchr(path, '/');
	char *dir;
	struct timespec ts;
	int fd = -1, rc;
	size_t n;

	memset(a, 0, sizeof(*a));
	a->dirfd = -1;
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	a->base = strdup(slash ? slash + 1 : path);
	if (!dir || !a->base) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!*a->base || !strcmp(a->base, ".") || !strcmp(a->base, "..")) {
		rc = -EISDIR;
		goto fail;
	}
	a->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0) {
		rc = -errno;
		goto fail;
	}
	n = strlen(a->base) + 16;
	if (!(a->tmp = malloc(n))) {
		rc = -ENOMEM;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (int i = 0; i < ATOMICF_TRIES && fd < 0; i++) {
		unsigned long long x = ((unsigned long long)ts.tv_nsec << 20) ^
				       ((unsigned long long)getpid() << 4) ^ (unsigned)i;
		char sfx[7];
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL; /* splitmix64's mixer */
		for (int k = 0; k < 6; k++, x /= 62)
			sfx[k] = cs[x % 62];
		sfx[6] = '\0';
		snprintf(a->tmp, n, ".%s.%s", a->base, sfx);
		fd = openat(a->dirfd, a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0666);
		if (fd < 0 && errno != EEXIST) {
			rc = -errno;
			goto fail;
		}
	}
	if (fd < 0) {
		rc = -EEXIST;
		goto fail;
	}
	if (!(a->f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		unlinkat(a->dirfd, a->tmp, 0);
		goto fail;
	}
	free(dir);
	return 0;
fail:
	free(dir);
	release(a);
	return rc;
}

int atomicf_commit(struct atomicf *a)
{
	int rc = 0;
	if (!a->f)
		return -EBADF;
	if (fflush(a->f) != 0 || ferror(a->f))
		rc = errno ? -errno : -EIO;
	if (!rc && fsync(fileno(a->f)) != 0)
		rc = -errno;
	if (fclose(a->f) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	a->f = NULL;
	if (!rc && renameat(a->dirfd, a->tmp, a->dirfd, a->base) != 0)
		rc = -errno;
	if (rc)
		unlinkat(a->dirfd, a->tmp, 0);
	release(a);
	return rc;
}

void atomicf_abort(struct atomicf *a)
{
	if (!a->f)
		return;
	fclose(a->f);
	a->f = NULL;
	unlinkat(a->dirfd, a->tmp, 0);
	release(a);
}
