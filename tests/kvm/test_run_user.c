// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm run --user: the VMM (a child of the root passvm) runs as the user
 * with no capabilities, no_new_privs, and a seccomp filter in every thread
 * (/proc/PID/task/TID/status: Uid, CapEff/CapPrm/CapBnd 0, NoNewPrivs 1,
 * Seccomp 2). SIGTERM to the root passvm stops the guest through the VMM
 * (exit 1, "interrupted"); SIGKILL of the VMM is reported by the root
 * passvm in one line; SIGKILL of the root passvm takes the VMM with it.
 * The guest is a synthetic bzImage spinning in
 * "jmp .". Usage: test-run-user PASSVM (needs root and /dev/kvm).
 */
#include "kvmtest.h"
#include "../bzimage_synth.h"

#include <dirent.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/passvm-test-user-XXXXXX";

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The pid of parent's child, or 0. */
static pid_t child_of(pid_t parent)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent, (int)parent);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int pid = 0;
	if (fgets(buf, sizeof(buf), f))
		pid = atoi(buf);
	fclose(f);
	return pid;
}

/* The value of "Key:" in a status file, or "". */
static void status_field(const char *path, const char *key, char *out, size_t size)
{
	char line[256];
	size_t klen = strlen(key);
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *v = line + klen + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, size, "%s", v);
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
}

/* A sanitizer build leaves the VMM's main thread unconfined (LeakSanitizer
 * runs there at exit; vmm/sandbox.c): one thread fewer has a filter. */
#if defined(__SANITIZE_ADDRESS__)
#define UNCONFINED_MAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNCONFINED_MAIN 1
#endif
#endif
#ifndef UNCONFINED_MAIN
#define UNCONFINED_MAIN 0
#endif

/* Waits until the VMM's threads (main, vCPU, console reader) all have their
 * filter; then checks every thread's credentials. Returns the thread count. */
static int check_vmm(pid_t vmm, uid_t uid)
{
	char path[320], v[128], want_uid[64];
	snprintf(want_uid, sizeof(want_uid), "%u\t%u\t%u\t%u", uid, uid, uid, uid);
	int threads = 0, confined = 0;
	for (int tries = 0; tries < 100; tries++) {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)vmm);
		DIR *d = opendir(path);
		if (!d)
			return 0;
		threads = confined = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)vmm, e->d_name);
			status_field(path, "Seccomp", v, sizeof(v));
			threads++;
			confined += strcmp(v, "2") == 0;
		}
		closedir(d);
		if (threads >= 2 && confined == threads - UNCONFINED_MAIN)
			break;
		sleep_ms(100);
	}
	CHECK(threads >= 2);
	CHECK_EQ_INT(confined, threads - UNCONFINED_MAIN);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)vmm);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)vmm, e->d_name);
		status_field(path, "Uid", v, sizeof(v));
		CHECK_EQ_STR(v, want_uid);
		static const char *const zero_caps[] = { "CapInh", "CapPrm", "CapEff", "CapAmb" };
		for (size_t i = 0; i < ARRAY_SIZE(zero_caps); i++) {
			status_field(path, zero_caps[i], v, sizeof(v));
			CHECK_EQ_STR(v, "0000000000000000");
		}
		status_field(path, "NoNewPrivs", v, sizeof(v));
		CHECK_EQ_STR(v, "1");
	}
	if (d)
		closedir(d);
	/* The bounding set and no_new_privs are per thread: the main thread
	 * (which dropped them) must show both. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)vmm);
	status_field(path, "CapBnd", v, sizeof(v));
	CHECK_EQ_STR(v, "0000000000000000");
	return threads;
}

/* Starts passvm run --user; returns its pid, stderr into errfile. */
static pid_t start(const char *passvm, const char *kernel, const char *console,
		   const char *user, const char *errfile)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		FILE *e = freopen(errfile, "w", stderr);
		(void)e;
		execl(passvm, passvm, "run", "--kernel", kernel, "--memory", "64M", "--console",
		      console, "--user", user, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void read_file(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-run-user PASSVM\n");
		return 2;
	}
	struct host_root root;
	struct kvm_system kvm;
	int r = kvmtest_open(&root, &kvm);
	if (r)
		return r;
	kvm_system_close(&kvm);
	host_root_close(&root);
	if (geteuid() != 0)
		return test_skip("--user needs root");
	const struct passwd *pw = getpwnam("nobody");
	if (!pw)
		return test_skip("no user 'nobody' on this host");
	uid_t uid = pw->pw_uid;
	if (!mkdtemp(dir))
		return test_skip("cannot create a temporary directory");

	char kernel[128], console[128], errfile[128], err[1024];
	snprintf(kernel, sizeof(kernel), "%s/spin", dir);
	snprintf(console, sizeof(console), "%s/console", dir);
	snprintf(errfile, sizeof(errfile), "%s/err", dir);
	uint8_t pm[0x200 + 16];
	memset(pm, 0xf4, sizeof(pm));
	pm[0x200] = 0xeb; /* jmp . */
	pm[0x201] = 0xfe;
	size_t size;
	uint8_t *img = synth_bzimage(pm, sizeof(pm), 0x020f, &size);
	FILE *f = fopen(kernel, "wb");
	CHECK(f && fwrite(img, 1, size, f) == size);
	if (f)
		fclose(f);
	free(img);

	/* 1: confined; SIGTERM to the root passvm stops the guest. */
	pid_t parent = start(argv[1], kernel, console, "nobody", errfile);
	pid_t vmm = 0;
	for (int i = 0; i < 100 && !vmm; i++, sleep_ms(100))
		vmm = child_of(parent);
	CHECK(vmm > 0);
	if (vmm > 0)
		fprintf(stderr, "VMM pid %d: %d threads confined as uid %u\n", (int)vmm,
			check_vmm(vmm, uid), uid);
	kill(parent, SIGTERM);
	int st;
	waitpid(parent, &st, 0);
	read_file(errfile, err, sizeof(err));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK(strstr(err, "guest stopped (interrupted)") != NULL);
	CHECK(strstr(err, "seccomp") == NULL);
	if (!strstr(err, "guest stopped (interrupted)"))
		fprintf(stderr, "  after SIGTERM: %s\n", err);

	/* 2: SIGKILL of the VMM: the root passvm says so in one line. */
	parent = start(argv[1], kernel, console, "nobody", errfile);
	vmm = 0;
	for (int i = 0; i < 100 && !vmm; i++, sleep_ms(100))
		vmm = child_of(parent);
	CHECK(vmm > 0);
	if (vmm > 0) {
		sleep_ms(300);
		kill(vmm, SIGKILL);
	}
	waitpid(parent, &st, 0);
	read_file(errfile, err, sizeof(err));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK(strstr(err, "was killed by signal 9") != NULL);
	if (!strstr(err, "was killed by signal 9"))
		fprintf(stderr, "  after SIGKILL: %s\n", err);

	/* 3: SIGKILL of the root passvm: the VMM must not outlive it (it would
	 * keep the devices from `passvm vfio restore`). */
	parent = start(argv[1], kernel, console, "nobody", errfile);
	vmm = 0;
	for (int i = 0; i < 100 && !vmm; i++, sleep_ms(100))
		vmm = child_of(parent);
	CHECK(vmm > 0);
	if (vmm > 0) {
		sleep_ms(300);
		kill(parent, SIGKILL);
		waitpid(parent, &st, 0);
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/%d/status", (int)vmm);
		bool gone = false;
		for (int i = 0; i < 50 && !gone; i++, sleep_ms(100))
			gone = access(proc, F_OK) != 0;
		CHECK(gone);
		if (!gone)
			kill(vmm, SIGKILL); /* an orphan would hold our stdout open */
	}

	/* 4: bad users are usage errors, before anything starts. */
	parent = start(argv[1], kernel, console, "no-such-user-passvm", errfile);
	waitpid(parent, &st, 0);
	read_file(errfile, err, sizeof(err));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	CHECK(strstr(err, "no such user") != NULL);
	parent = start(argv[1], kernel, console, "root", errfile);
	waitpid(parent, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);

	unlink(kernel);
	unlink(console);
	unlink(errfile);
	rmdir(dir);
	return test_result();
}
