// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm vfio: hand whole IOMMU groups to vfio-pci, always give them back.
 *   passvm vfio [--root DIR] bind [--force] [--timeout-ms N] BDF...
 *   passvm vfio [--root DIR] restore [--all | BDF...]
 *   passvm vfio [--root DIR] status [--json]
 *   passvm vfio [--root DIR] reset BDF
 * --root points the host root at a fixture tree or snapshot (tests).
 */
#include "cli.h"
#include "common.h"
#include "vfio.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_vfio(int argc, char **argv); /* listed in passvm.c */



static void usage(FILE *out)
{
	fprintf(out,
		"usage: passvm vfio [--root DIR] COMMAND ...\n"
		"  bind [--force] [--timeout-ms N] BDF...  bind the IOMMU groups of BDF to vfio-pci\n"
		"  restore [--all | BDF...]                give journaled devices back to their drivers\n"
		"  status [--json]                         devices passvm changed, and who holds them\n"
		"  reset BDF                               reset a vfio-pci device through VFIO\n"
		"A group is refused when a member is a chipset function (never taken) or in\n"
		"use on the host (taken only when named too, or with --force).\n");
}

/* Parses BDF arguments; a malformed one is a usage error (exit 2). */
static int parse_bdfs(char **args, int n, struct pci_addr **out)
{
	*out = calloc((size_t)(n ? n : 1), sizeof(**out));
	if (!*out)
		return log_error_errno(-ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		if (pci_addr_parse(args[i], &(*out)[i]) < 0) {
			log_error("'%s' is not a PCI address: expected DDDD:BB:DD.F or BB:DD.F "
				  "(as lspci -D prints)", args[i]);
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

static void print_plan(const struct vfio_plan *plan)
{
	for (size_t g = 0; g < plan->count; g++) {
		const struct vfio_group_plan *gp = &plan->groups[g];
		printf("IOMMU group %d:\n", gp->group);
		for (size_t i = 0; i < gp->count; i++) {
			const struct vfio_member *m = &gp->members[i];
			printf("  %s  %04x:%04x  %-12s %s%s%s%s\n", m->info.bdf, m->info.vendor,
			       m->info.device, m->info.driver[0] ? m->info.driver : "(none)",
			       vfio_member_action_name(m->action), m->named ? " (named)" : "",
			       m->why[0] ? ": " : "", m->why);
		}
	}
}

static int do_bind(const struct vfio_host *host, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false;
	uint64_t timeout_ms = 10000;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 't':
			if (parse_u64(optarg, &timeout_ms) < 0 || timeout_ms > 600000) {
				log_error("--timeout-ms '%s': expected milliseconds, at most 600000",
					  optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	int n = argc - optind;
	if (n < 1) {
		log_error("bind needs at least one PCI address");
		return EXIT_USAGE;
	}
	struct pci_addr *addrs;
	if (parse_bdfs(argv + optind, n, &addrs) < 0)
		return EXIT_USAGE;

	struct vfio_plan plan;
	struct pci_addr bad;
	char bdf[PCI_ADDR_STRLEN];
	int r = vfio_plan_bind(host, addrs, (size_t)n, force, &plan, &bad);
	free(addrs);
	if (r == -ENODEV) {
		pci_addr_format(&bad, bdf);
		log_error("cannot bind %s: no such PCI function (lspci -D lists them); "
			  "nothing was changed", bdf);
		return 1;
	}
	if (r == -ENXIO) {
		pci_addr_format(&bad, bdf);
		log_error("cannot bind %s: it has no IOMMU group (no IOMMU, or it is off: "
			  "see passvm's iommu-check); nothing was changed", bdf);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "cannot plan the bind (reading sysfs)");
		return 1;
	}
	print_plan(&plan);
	fflush(stdout); /* the listing before the verdict, also in a log */
	if (plan.refused) {
		/* one line: the first refusal; the listing above has the rest */
		const struct vfio_member *first = NULL;
		int group = -1;
		for (size_t g = 0; g < plan.count && !first; g++)
			for (size_t i = 0; i < plan.groups[g].count && !first; i++)
				if (plan.groups[g].members[i].action == VFIO_MEMBER_REFUSED) {
					first = &plan.groups[g].members[i];
					group = plan.groups[g].group;
				}
		if (plan.refused > 1)
			log_error("refusing IOMMU group %d: %s is %s (and %zu more, listed above); "
				  "nothing was changed", group, first->info.bdf, first->why,
				  plan.refused - 1);
		else
			log_error("refusing IOMMU group %d: %s is %s; nothing was changed", group,
				  first->info.bdf, first->why);
		vfio_plan_free(&plan);
		return 1;
	}

	struct pci_addr failed = { 0 };
	int rollback_err = 0;
	r = vfio_bind_apply(host, &plan, (int)timeout_ms, &failed, &rollback_err);
	pci_addr_format(&failed, bdf);
	/* what became of the devices this bind had already taken */
	const char *after = rollback_err == 0
		? "the devices it had taken are back on their drivers"
		: "giving back what it had taken failed too: run `passvm vfio restore --all`";
	if (r == -ENOPKG)
		log_error("cannot bind: the vfio-pci driver is not loaded (modprobe vfio-pci); "
			  "nothing was changed");
	else if (r == -ETIMEDOUT)
		log_error("bound the group of %s to vfio-pci, but its /dev/vfio node did not "
			  "appear within %llu ms; %s", bdf, (unsigned long long)timeout_ms, after);
	else if (r == -EIO)
		log_error("cannot bind %s: vfio-pci did not take it (dmesg says why); %s",
			  bdf, after);
	else if (r < 0)
		log_error_errno(r, "cannot bind %s (%s)", bdf, after);
	if (r == 0)
		for (size_t g = 0; g < plan.count; g++)
			printf("IOMMU group %d is on vfio-pci: /dev/vfio/%d\n",
			       plan.groups[g].group, plan.groups[g].group);
	vfio_plan_free(&plan);
	return r < 0 ? 1 : 0;
}

static int do_restore(const struct vfio_host *host, int argc, char **argv)
{
	bool all = argc == 2 && strcmp(argv[1], "--all") == 0;
	if (argc < 2 || (!all && argv[1][0] == '-')) {
		log_error("restore needs --all or PCI addresses");
		usage(stderr);
		return EXIT_USAGE;
	}
	struct pci_addr *addrs = NULL;
	size_t n = 0;
	if (!all) {
		if (parse_bdfs(argv + 1, argc - 1, &addrs) < 0)
			return EXIT_USAGE;
		n = (size_t)argc - 1;
	}
	struct vfio_restore_result *res;
	size_t nres;
	int r = vfio_restore(host, addrs, n, &res, &nres);
	free(addrs);
	if (r < 0 && nres == 0) {
		log_error_errno(r, "cannot restore: reading the journal in /%s failed",
				VFIO_JOURNAL_DIR);
		return 1;
	}
	if (nres == 0)
		printf("nothing to restore: passvm has no device journaled\n");
	for (size_t i = 0; i < nres; i++) {
		const struct vfio_restore_result *x = &res[i];
		if (x->not_journaled)
			printf("%s: not changed by passvm, nothing to restore\n", x->bdf);
		else if (x->vanished)
			printf("%s: gone from the host (a VF removed with its PF); journal dropped\n",
			       x->bdf);
		else if (x->err == -EBUSY)
			log_error("cannot restore %s: its IOMMU group is held open (passvm vfio "
				  "status shows by whom); stop that process first", x->bdf);
		else if (x->err < 0)
			log_error_errno(x->err, "cannot restore %s to %s (the journal is kept; "
					"retry, or check dmesg)", x->bdf,
					x->to[0] ? x->to : "no driver");
		else
			printf("%s: %s -> %s, restored\n", x->bdf, x->from[0] ? x->from : "(none)",
			       x->to[0] ? x->to : "(none)");
	}
	free(res);
	return r < 0 ? 1 : 0;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static int do_status(const struct vfio_host *host, int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc > 2 || (argc == 2 && !json)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct vfio_journal_entry *e;
	size_t n;
	int r = vfio_journal_list(host, &e, &n);
	if (r < 0)
		return log_error_errno(r, "cannot read the journal in /%s", VFIO_JOURNAL_DIR),
		       1;
	if (json)
		printf("[");
	else if (n == 0)
		printf("passvm has changed no device\n");
	else
		printf("%-13s %-5s %-10s %-10s %-20s %-24s %s\n", "DEVICE", "GROUP", "DRIVER",
		       "ORIGINAL", "SINCE", "LAST STEP", "HELD BY");
	for (size_t i = 0; i < n; i++) {
		struct pci_dev_info dev;
		bool present = pci_dev_read(host->root, &e[i].addr, &dev) == 0;
		struct vfio_holder *h = NULL;
		size_t nh = 0;
		if (present && dev.iommu_group >= 0)
			vfio_group_holders(host->root, dev.iommu_group, &h, &nh);
		char since[32] = "?";
		time_t t = (time_t)e[i].time_s;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%SZ", &tm);
		if (json) {
			printf("%s\n  {\"device\": \"%s\", \"present\": %s, \"group\": %d, "
			       "\"driver\": ", i ? "," : "", e[i].bdf, present ? "true" : "false",
			       present ? dev.iommu_group : -1);
			json_string(present ? dev.driver : "");
			printf(", \"original_driver\": ");
			json_string(e[i].orig_driver);
			printf(", \"original_override\": ");
			json_string(e[i].orig_override);
			printf(", \"since\": %lld, \"pid\": %d, \"steps\": %u, \"last_step\": ",
			       e[i].time_s, e[i].pid, e[i].steps);
			json_string(e[i].last_step);
			printf(", \"holders\": [");
			for (size_t k = 0; k < nh; k++) {
				printf("%s{\"pid\": %d, \"comm\": ", k ? ", " : "", h[k].pid);
				json_string(h[k].comm);
				printf("}");
			}
			printf("]}");
		} else {
			char held[128] = "-";
			size_t len = 0;
			for (size_t k = 0; k < nh && len < sizeof(held); k++)
				len += (size_t)snprintf(held + len, sizeof(held) - len, "%s%d (%s)",
							k ? ", " : "", h[k].pid, h[k].comm);
			char group[16] = "-";
			if (present)
				snprintf(group, sizeof(group), "%d", dev.iommu_group);
			printf("%-13s %-5s %-10s %-10s %-20s %-24s %s\n", e[i].bdf, group,
			       !present ? "(gone)" : dev.driver[0] ? dev.driver : "(none)",
			       e[i].orig_driver[0] ? e[i].orig_driver : "(none)", since,
			       e[i].last_step, held);
		}
		free(h);
	}
	if (json)
		printf("%s]\n", n ? "\n" : "");
	free(e);
	return 0;
}

/* reset: what the kernel can do (reset_method), doing it through VFIO, and
 * proof the device came back (config space answers with its vendor ID). */
static int do_reset(const struct host_root *root, int argc, char **argv)
{
	struct pci_addr addr;
	if (argc != 2) {
		log_error("reset needs exactly one PCI address");
		return EXIT_USAGE;
	}
	if (pci_addr_parse(argv[1], &addr) < 0) {
		log_error("'%s' is not a PCI address: expected DDDD:BB:DD.F or BB:DD.F", argv[1]);
		return EXIT_USAGE;
	}
	struct pci_dev_info dev;
	char bdf[PCI_ADDR_STRLEN], path[128], method[128] = "";
	pci_addr_format(&addr, bdf);
	int r = pci_dev_read(root, &addr, &dev);
	if (r < 0)
		return log_error_errno(r, "cannot reset %s: no such PCI function", bdf), 1;
	if (strcmp(dev.driver, "vfio-pci") != 0) {
		log_error("cannot reset %s: it is on %s, not vfio-pci (passvm vfio bind %s)",
			  bdf, dev.driver[0] ? dev.driver : "no driver", bdf);
		return 1;
	}
	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_method", bdf);
	/* reset_method (Linux 5.15+) lists the methods the kernel will try,
	 * in order; empty or absent: none usable. */
	if (host_root_read(root, path, method, sizeof(method)) < 0)
		method[0] = '\0';
	printf("%s: reset_method: %s\n", bdf, method[0] ? method : "(none)");
	fflush(stdout);

	struct vfio_iommu io;
	r = vfio_iommu_open(&io, root, VFIO_BACKEND_AUTO, dev.iommu_group);
	if (r < 0)
		return log_error_errno(r, "cannot reset %s: %s", bdf, io.why), 1;
	struct vfio_device vdev;
	r = vfio_device_open(&vdev, &io, &addr, dev.iommu_group);
	if (r < 0) {
		log_error_errno(r, "cannot reset %s: %s", bdf, io.why);
		vfio_iommu_close(&io);
		return 1;
	}
	int rc = 0;
	r = vfio_device_reset(&vdev);
	if (r == -ENOTTY) {
		log_error("cannot reset %s: the device has no usable reset (reset_method: %s); "
			  "VFIO can only reset it with its bus, which needs every device there",
			  bdf, method[0] ? method : "none");
		rc = 1;
	} else if (r < 0) {
		log_error_errno(r, "VFIO_DEVICE_RESET of %s failed", bdf);
		rc = 1;
	} else {
		uint16_t vendor = 0xffff;
		r = vfio_config_read16(&vdev, 0, &vendor);
		if (r < 0 || vendor == 0xffff) {
			log_error("%s does not answer after reset (vendor ID reads 0x%04x): "
				  "the device may need a slot power cycle", bdf, vendor);
			rc = 1;
		} else {
			printf("%s: reset through VFIO; vendor ID reads 0x%04x afterwards\n", bdf,
			       vendor);
		}
	}
	vfio_device_close(&vdev);
	vfio_iommu_close(&io);
	return rc;
}

static int do_reset_on_host(const struct vfio_host *host, int argc, char **argv)
{
	return do_reset(host->root, argc, argv);
}

int cmd_vfio(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {
		{ "bind", do_bind },
		{ "restore", do_restore },
		{ "status", do_status },
		{ "reset", do_reset_on_host },
	};
	return cli_run_group("vfio", argc, argv, subs, ARRAY_SIZE(subs), usage);
}
