/*
 * privs — dropping root (see privs.h). The order matters: the bounding set can only shrink
 * while CAP_SETPCAP is held (as root), capabilities survive setresuid() only with
 * PR_SET_KEEPCAPS, and they come back into the effective set by capset() afterwards.
 */
#include "common/privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(char *err, size_t el, const char *what, int e)
{
	snprintf(err, el, "%s: %s", what, strerror(e));
	return -EPERM;
}

int privs_drop(const char *name, uint64_t keep, char *err, size_t el)
{
	struct passwd pw, *p = NULL;
	char buf[4096];
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	int rc;

	rc = getpwnam_r(name, &pw, buf, sizeof(buf), &p);
	if (rc || !p) {
		snprintf(err, el, "no user '%s'%s%s", name, rc ? ": " : "", rc ? strerror(rc) : "");
		return -ENOENT;
	}
	if (geteuid() != 0 && geteuid() == p->pw_uid && getuid() == p->pw_uid)
		return 0; /* started as that user already (systemd's User=, say) */
	if (geteuid() != 0) {
		snprintf(err, el, "only a process started as root changes user (this one is uid %u)",
			 (unsigned)geteuid());
		return -EPERM;
	}
	if (p->pw_uid == 0) {
		snprintf(err, el, "'%s' is root: nothing would be dropped", name);
		return -EINVAL;
	}
	/* every capability not kept leaves the bounding set (until the kernel says there are
	 * no more); so no later exec could regain it */
	for (int c = 0; c < 64; c++) {
		if (keep & PRIVS_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return fail(err, el, "cannot shrink the capability bounding set", errno);
		}
	}
	/* no ambient capabilities (EINVAL: a kernel before 4.3 has none) */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return fail(err, el, "cannot clear the ambient capabilities", errno);
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return fail(err, el, "cannot keep capabilities across the change of user", errno);
	if (setgroups(0, NULL) < 0)
		return fail(err, el, "cannot drop the supplementary groups", errno);
	if (setresgid(p->pw_gid, p->pw_gid, p->pw_gid) < 0)
		return fail(err, el, "cannot change group", errno);
	if (setresuid(p->pw_uid, p->pw_uid, p->pw_uid) < 0)
		return fail(err, el, "cannot change user", errno);
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail(err, el, "cannot set the capabilities kept", errno);
	if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return fail(err, el, "cannot reset keep-capabilities", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, el, "cannot set no_new_privs", errno);
	/* there must be no way back */
	if (setresuid(0, 0, 0) == 0 || setresgid(0, 0, 0) == 0) {
		snprintf(err, el, "could become root again after dropping it");
		return -EPERM;
	}
	return 0;
}
