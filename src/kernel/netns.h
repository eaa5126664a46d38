/*
 * netns — enter a named network namespace (/run/netns/NAME, as `ip netns add` makes them) for
 * the calling thread, and come back. Needs CAP_SYS_ADMIN. Sockets opened while inside stay
 * bound to that namespace after leaving, and /proc/self/net follows the thread's namespace.
 */
#ifndef TWKIT_KERNEL_NETNS_H
#define TWKIT_KERNEL_NETNS_H

/* Enter NAME; *saved receives an fd of the current namespace for kns_leave. 0 or -errno
 * (-ENOENT: no such namespace; -EPERM: not privileged; -EINVAL: bad name). */
int kns_enter(const char *name, int *saved);
/* Enter the namespace open as fd (an nsfs file: /proc/PID/ns/net, /run/netns/NAME); the
 * caller keeps fd. *saved as for kns_enter. 0 or -errno (-EINVAL: fd is not a network
 * namespace; -EPERM: not privileged). */
int kns_enter_fd(int fd, int *saved);
/* Return to the namespace saved by kns_enter and close the fd. 0 or -errno. */
int kns_leave(int saved);
/* Whether a name is acceptable for /run/netns (no '/', not "." or "..", 1..63 chars). */
int kns_name_ok(const char *name);

#endif
