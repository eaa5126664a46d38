/*
 * outpath — early checks and link-safe opening of output files (outpath.h).
 */
#include "common/outpath.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int outpath_check(const char *path, unsigned flags, char *why, size_t len)
{
	char dir[4096];
	const char *slash;
	struct stat st;

	if (strcmp(path, "-") == 0)
		return 0;
	if (!path[0]) {
		snprintf(why, len, "an empty path");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(dir)) {
		snprintf(why, len, "path too long");
		return -ENAMETOOLONG;
	}
	slash = strrchr(path, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (slash && !slash[1]) {
		snprintf(why, len, "names a directory, not a file");
		return -EISDIR;
	}
	if (stat(dir, &st) < 0) {
		int e = errno;
		snprintf(why, len, "directory %s: %s", dir,
			 e == ENOENT ? "does not exist" : strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		int e = errno;
		snprintf(why, len, "directory %s is not writable: %s", dir, strerror(e));
		return -e;
	}
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, len, "%s", strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, len, "is a directory");
		return -EISDIR;
	}
	if (flags & OUTPATH_REPLACED)
		return 0;
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, len, "is a symbolic link, which twkit does not write through "
				   "(name the file itself, or '-' for stdout)");
		return -ELOOP;
	}
	if (access(path, W_OK) < 0) {
		int e = errno;
		snprintf(why, len, "not writable: %s", strerror(e));
		return -e;
	}
	return 0;
}

FILE *outpath_open(const char *path)
{
	FILE *f;
	int fd;

	if (strcmp(path, "-") == 0)
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}
