/* Unit tests: kernel/netns_list — deduplication of namespaces by (dev, inode), the naming
 * process and name kept, and container / pod ids read from cgroup paths (docker, containerd,
 * CRI-O, podman, LXC; cgroupfs and systemd drivers; Kubernetes pods). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/netns_list.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define POD "8f2d3c1e-4b5a-4c6d-9e8f-0a1b2c3d4e5f"
#define POD_ "8f2d3c1e_4b5a_4c6d_9e8f_0a1b2c3d4e5f"

static void test_dedup(void **st)
{
	struct kns_list l;
	(void)st;
	kns_list_init(&l);
	/* processes met in /proc order: 3 namespaces, one also named twice in /run/netns */
	struct {
		uint64_t dev, ino;
		int pid;
	} procs[] = {{4, 100, 1},  {4, 100, 2},	  {4, 200, 50}, {4, 300, 70},
		     {4, 200, 40}, {4, 100, 900}, {4, 300, 71}, {5, 200, 60}};
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		struct kns_ns *ns = kns_list_get(&l, procs[i].dev, procs[i].ino);
		assert_non_null(ns);
		kns_ns_add_proc(ns, procs[i].pid);
	}
	kns_ns_add_name(kns_list_get(&l, 4, 300), "web");
	kns_ns_add_name(kns_list_get(&l, 4, 300), "alpha"); /* two names: the smaller kept */
	kns_ns_add_name(kns_list_get(&l, 4, 300), "zeta");
	kns_ns_add_name(kns_list_get(&l, 4, 300), "../x"); /* not a netns name: ignored */
	/* (5, 200) differs from (4, 200): a different device is a different namespace */
	assert_int_equal(l.n, 4);
	struct kns_ns *a = kns_list_get(&l, 4, 100), *b = kns_list_get(&l, 4, 200),
		      *c = kns_list_get(&l, 4, 300), *d = kns_list_get(&l, 5, 200);
	assert_int_equal(l.n, 4);
	assert_int_equal(a->pid, 1);
	assert_int_equal(a->nprocs, 3);
	assert_int_equal(b->pid, 40); /* the lowest pid names it, whatever the order met */
	assert_int_equal(b->nprocs, 2);
	assert_int_equal(c->pid, 70);
	assert_string_equal(c->name, "alpha");
	assert_int_equal(d->pid, 60);
	assert_string_equal(a->name, "");
	kns_list_fini(&l);
	assert_int_equal(l.n, 0);
}

static void test_dedup_many(void **st)
{
	/* against a naive reference: 3000 processes over 97 namespaces in random order */
	struct kns_list l;
	int lowest[97], count[97];
	(void)st;
	srand(7);
	kns_list_init(&l);
	for (int i = 0; i < 97; i++)
		lowest[i] = 0, count[i] = 0;
	for (int i = 0; i < 3000; i++) {
		int k = rand() % 97, pid = 1 + rand() % 100000;
		struct kns_ns *ns = kns_list_get(&l, 4, 4026531840u + (uint64_t)k * 7);
		assert_non_null(ns);
		kns_ns_add_proc(ns, pid);
		count[k]++;
		if (!lowest[k] || pid < lowest[k])
			lowest[k] = pid;
	}
	size_t seen = 0;
	for (int k = 0; k < 97; k++) {
		if (!count[k])
			continue;
		seen++;
		struct kns_ns *ns = kns_list_get(&l, 4, 4026531840u + (uint64_t)k * 7);
		assert_int_equal(ns->pid, lowest[k]);
		assert_int_equal(ns->nprocs, count[k]);
	}
	assert_int_equal(l.n, seen);
	kns_list_fini(&l);
}

struct cg_case {
	const char *path, *runtime, *container, *pod;
};

static void test_cgroup_paths(void **st)
{
	static const struct cg_case cases[] = {
	    /* docker, cgroupfs driver (v1) and systemd driver (v2) */
	    {"/docker/" ID64, "docker", ID64, ""},
	    {"/system.slice/docker-" ID64 ".scope", "docker", ID64, ""},
	    /* containerd: nerdctl / ctr under systemd, and its cgroupfs namespaces */
	    {"/system.slice/nerdctl-" ID64 ".scope", "containerd", ID64, ""},
	    {"/k8s.io/" ID64, "containerd", ID64, ""},
	    /* Kubernetes, systemd driver: pod uid with '_' in the slice name */
	    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_
	     ".slice/cri-containerd-" ID64 ".scope",
	     "containerd", ID64, POD},
	    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_
	     ".slice/crio-" ID64B ".scope",
	     "cri-o", ID64B, POD},
	    /* guaranteed QoS: no qos slice */
	    {"/kubepods.slice/kubepods-pod" POD_ ".slice/docker-" ID64 ".scope", "docker", ID64,
	     POD},
	    /* Kubernetes, cgroupfs driver: pod<uid>/<id>, runtime not in the path */
	    {"/kubepods/burstable/pod" POD "/" ID64, "", ID64, POD},
	    {"/kubepods/pod" POD "/" ID64B, "", ID64B, POD},
	    /* the pod's cgroup itself (a pause process not yet in its own) */
	    {"/kubepods/besteffort/pod" POD, "", "", POD},
	    /* podman, rootless, with its nested "container" cgroup; conmon is not the container */
	    {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID64
	     ".scope/container",
	     "podman", ID64, ""},
	    {"/machine.slice/libpod-conmon-" ID64 ".scope", "", "", ""},
	    /* LXC */
	    {"/lxc.payload.web1", "lxc", "web1", ""},
	    {"/lxc/db2", "lxc", "db2", ""},
	    /* nothing to name */
	    {"/", "", "", ""},
	    {"/user.slice/user-0.slice/session-3.scope", "", "", ""},
	    {"/system.slice/docker-"
	     "0123.scope",
	     "", "", ""}, /* too short for an id */
	    {"/kubepods/burstable/podnot-a-uid", "", "", ""},
	    {"", "", "", ""},
	};
	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rt[16], ct[80], pod[40];
		int r = kns_cgroup_path_ids(cases[i].path, rt, sizeof(rt), ct, sizeof(ct), pod,
					    sizeof(pod));
		if (strcmp(rt, cases[i].runtime) || strcmp(ct, cases[i].container) ||
		    strcmp(pod, cases[i].pod))
			fail_msg("%s: got runtime '%s' container '%s' pod '%s'", cases[i].path, rt,
				 ct, pod);
		assert_int_equal(r, cases[i].container[0] || cases[i].pod[0]);
		/* a caller wanting only the container passes no runtime or pod buffer */
		char only[80];
		r = kns_cgroup_path_ids(cases[i].path, NULL, 0, only, sizeof(only), NULL, 0);
		assert_string_equal(only, cases[i].container);
		assert_int_equal(r, cases[i].container[0] || cases[i].pod[0]);
		/* and one wanting only the pod, no container buffer (the lxc/NAME form reads it) */
		r = kns_cgroup_path_ids(cases[i].path, NULL, 0, NULL, 0, pod, sizeof(pod));
		assert_string_equal(pod, cases[i].pod);
	}
}

static void test_cgroup_file(void **st)
{
	struct kns_ns ns;
	(void)st;
	/* hybrid v1 + v2: the v1 line naming the container wins over the unified "/" */
	memset(&ns, 0, sizeof(ns));
	kns_cgroup_parse("12:pids:/docker/" ID64 "\n"
			 "11:memory:/docker/" ID64 "\n"
			 "0::/\n",
			 &ns);
	assert_string_equal(ns.runtime, "docker");
	assert_string_equal(ns.container, ID64);
	assert_string_equal(ns.cgroup, "/docker/" ID64);
	/* pure v2 */
	memset(&ns, 0, sizeof(ns));
	kns_cgroup_parse(
	    "0::/kubepods.slice/kubepods-pod" POD_ ".slice/cri-containerd-" ID64B ".scope\n", &ns);
	assert_string_equal(ns.runtime, "containerd");
	assert_string_equal(ns.container, ID64B);
	assert_string_equal(ns.pod, POD);
	/* nothing: the unified path is kept as the cgroup */
	memset(&ns, 0, sizeof(ns));
	kns_cgroup_parse("1:cpu:/\n0::/system.slice/nginx.service\n", &ns);
	assert_string_equal(ns.cgroup, "/system.slice/nginx.service");
	assert_string_equal(ns.container, "");
	/* garbage and truncation */
	memset(&ns, 0, sizeof(ns));
	kns_cgroup_parse("no colons here\n::\n7\n0::", &ns);
	assert_string_equal(ns.container, "");
	kns_cgroup_parse("", &ns);
	char longp[2000];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '0', longp[1] = ':', longp[2] = ':', longp[3] = '/';
	longp[sizeof(longp) - 1] = '\0';
	kns_cgroup_parse(longp, &ns);
	assert_true(strlen(ns.cgroup) < sizeof(ns.cgroup));
}

static void test_label(void **st)
{
	struct kns_ns ns;
	char b[160];
	(void)st;
	memset(&ns, 0, sizeof(ns));
	ns.ino = 4026532001u;
	assert_string_equal(kns_ns_label(&ns, b, sizeof(b)), "inode 4026532001");
	ns.pid = 812;
	snprintf(ns.comm, sizeof(ns.comm), "nginx");
	assert_string_equal(kns_ns_label(&ns, b, sizeof(b)), "pid 812 (nginx)");
	snprintf(ns.runtime, sizeof(ns.runtime), "docker");
	snprintf(ns.container, sizeof(ns.container), "%s", ID64);
	snprintf(ns.pod, sizeof(ns.pod), "%s", POD);
	assert_string_equal(kns_ns_label(&ns, b, sizeof(b)),
			    "pid 812 (nginx) docker:0123456789ab pod " POD);
	snprintf(ns.name, sizeof(ns.name), "blue");
	assert_string_equal(kns_ns_label(&ns, b, sizeof(b)), "blue");
	ns.name[0] = '\0';
	ns.host = true;
	assert_string_equal(kns_ns_label(&ns, b, sizeof(b)), "host");
	/* a small buffer truncates, never overflows */
	ns.host = false;
	char small[12];
	kns_ns_label(&ns, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* A namespace that is gone, or whose name or pid now stands for another one, opens as
 * -ESRCH (skipped and counted), never as the wrong namespace. */
static void test_open_gone(void **st)
{
	struct kns_ns ns;
	struct stat sb;
	int fd;
	(void)st;
	assert_int_equal(stat("/proc/self/ns/net", &sb), 0);
	memset(&ns, 0, sizeof(ns));
	ns.dev = (uint64_t)sb.st_dev;
	ns.ino = (uint64_t)sb.st_ino;
	ns.pid = (int)getpid();
	fd = kns_open(&ns); /* the right identity opens */
	assert_true(fd >= 0);
	close(fd);
	ns.ino ^= 1; /* the pid is now in another namespace than the one found */
	assert_int_equal(kns_open(&ns), -ESRCH);
	ns.ino ^= 1;
	pid_t child = fork(); /* a pid that has exited and been reaped */
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	ns.pid = (int)child;
	assert_int_equal(kns_open(&ns), -ESRCH);
	snprintf(ns.name, sizeof(ns.name), "twk-no-such-netns-%d", (int)getpid());
	assert_int_equal(kns_open(&ns), -ESRCH); /* its name removed */
	memset(&ns, 0, sizeof(ns));		 /* nothing to open it by */
	assert_int_equal(kns_open(&ns), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup),	 cmocka_unit_test(test_dedup_many),
	    cmocka_unit_test(test_cgroup_paths), cmocka_unit_test(test_cgroup_file),
	    cmocka_unit_test(test_label),	 cmocka_unit_test(test_open_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
