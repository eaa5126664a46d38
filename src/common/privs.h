/*
 * privs — a server started as root becomes an unprivileged user, keeping only the
 * capabilities it names (no libcap: prctl and the capset system call). Afterwards the process
 * has no way back: supplementary groups gone, real/effective/saved ids all the user's, the
 * bounding and ambient sets emptied of everything not kept, and no_new_privs set.
 */
#ifndef TWKIT_COMMON_PRIVS_H
#define TWKIT_COMMON_PRIVS_H

#include <stddef.h>
#include <stdint.h>

/* The bit of capability CAP_X in a `keep` mask. */
#define PRIVS_CAP(c) (UINT64_C(1) << (c))

/*
 * Become user `name` (its uid and primary gid) keeping the capabilities in `keep` (effective
 * and permitted). Call with one thread only. 0 (also when already running as that user, not
 * root: nothing to drop); -ENOENT when there is no such user;
 * -EINVAL when `name` is root (uid 0: nothing would be dropped); -EPERM when not root or a
 * step failed (the process may then be half changed: exit). err says which.
 */
int privs_drop(const char *name, uint64_t keep, char *err, size_t el);

#endif
