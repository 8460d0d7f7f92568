// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The iommu-check program (also `passvm check`): parses the options, builds
 * the report, writes it, and exits 0 ready, 1 not ready, 2 usage or bad
 * input. Errors are reported once, in one line.
 */
#include "iommu_tools.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_NOT_READY 1
#define EXIT_BAD_USAGE 2

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_NFD };

struct args {
	const char *root;
	const char *snapshot;
	enum format format;
	bool groups_only;
	int color;                  /* -1 auto */
	uint64_t memory_bytes;
	struct pci_addr *bdfs;
	size_t n_bdfs;
};

static void usage(FILE *out, const char *program)
{
	fprintf(out,
		"usage: %s [OPTIONS] [BDF...]\n"
		"Checks whether this host can pass PCI devices through to a VM, with the\n"
		"evidence and the fix for every finding. With BDFs (0000:01:00.0 or 01:00.0),\n"
		"describes those devices in full; without, summarizes every device.\n\n"
		"  --json            machine-readable report (docs/iommu-check.md)\n"
		"  --format FMT      text, json or nfd (Node Feature Discovery labels)\n"
		"  --groups          the IOMMU groups table alone\n"
		"  --memory SIZE     guest memory to check the memlock limit against (4G, 512M)\n"
		"  --root DIR        read /sys, /proc, /dev from DIR (a captured tree)\n"
		"  --snapshot FILE   also write the files read to FILE (tar), for a bug report\n"
		"  --no-color        no colour even on a terminal\n"
		"  -h, --help        this text\n\n"
		"Exit status: 0 ready, 1 not ready, 2 usage or bad input.\n", program);
}

static int parse_args(int argc, char **argv, const char *program, struct args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "groups", no_argument, NULL, 'g' },
		{ "memory", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, 'n' },
		{ "color", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': a->format = FORMAT_JSON; break;
		case 'g': a->groups_only = true; break;
		case 'r': a->root = optarg; break;
		case 's': a->snapshot = optarg; break;
		case 'n': a->color = 0; break;
		case 'c': a->color = 1; break;
		case 'h': usage(stdout, program); return 1;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				a->format = FORMAT_TEXT;
			else if (strcmp(optarg, "json") == 0)
				a->format = FORMAT_JSON;
			else if (strcmp(optarg, "nfd") == 0)
				a->format = FORMAT_NFD;
			else {
				log_error("unknown format '%s' (text, json or nfd)", optarg);
				return -EINVAL;
			}
			break;
		case 'm':
			if (parse_size_mib_default(optarg, &a->memory_bytes) < 0 ||
			    !a->memory_bytes) {
				log_error("bad --memory '%s' (a size such as 4G or 512M)", optarg);
				return -EINVAL;
			}
			break;
		default:
			log_error("option '%s' is unknown or lacks its value (--help lists "
				  "them)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	a->n_bdfs = (size_t)(argc - optind);
	a->bdfs = calloc(a->n_bdfs ? a->n_bdfs : 1, sizeof(*a->bdfs));
	if (!a->bdfs)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_bdfs; i++) {
		const char *text = argv[optind + (int)i];
		if (pci_addr_parse(text, &a->bdfs[i]) < 0) {
			log_error("'%s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F)", text);
			return -EINVAL;
		}
	}
	return 0;
}

static int write_snapshot(struct host_root *root, const char *file)
{
	struct iommu_host_facts facts;
	int r = iommu_facts_load(root, &facts);
	if (r < 0)
		return log_error_errno(r, "cannot gather facts for snapshot %s", file);
	char *text = iommu_facts_format(&facts);
	iommu_facts_free(&facts);
	if (!text)
		return log_error_errno(-ENOMEM, "cannot write snapshot %s", file);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = -errno;
		free(text);
		return log_error_errno(r, "cannot create snapshot %s", file);
	}
	struct snapshot_extra extra[] = { { IOMMU_FACTS_PATH, text } };
	r = snapshot_write_tar(root, fd, extra, ARRAY_SIZE(extra));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	free(text);
	if (r < 0)
		return log_error_errno(r, "cannot write snapshot %s", file);
	return 0;
}

static int run(struct args *a, struct host_root *root)
{
	struct iommu_check_options opts = {
		.memory_bytes = a->memory_bytes, .bdfs = a->bdfs, .n_bdfs = a->n_bdfs,
	};
	struct iommu_report report;
	size_t bad = 0;
	int r = iommu_report_build(root, &opts, &report, &bad);
	if (r == -ENODEV) {
		char bdf[PCI_ADDR_STRLEN];
		pci_addr_format(&a->bdfs[bad], bdf);
		log_error("no PCI device %s on this host (run without arguments to list them)",
			  bdf);
		return EXIT_BAD_USAGE;
	}
	if (r < 0) {
		log_error_errno(r, "cannot read the host under %s", root->path);
		return EXIT_BAD_USAGE;
	}
	struct iommu_output_options o = {
		.color = a->color < 0 ? isatty(STDOUT_FILENO) : a->color,
		.groups_only = a->groups_only,
	};
	if (a->format == FORMAT_JSON)
		r = iommu_report_write_json(stdout, &report, &o);
	else if (a->format == FORMAT_NFD)
		r = iommu_report_write_nfd(stdout, &report);
	else
		r = iommu_report_write_text(stdout, &report, &o);
	bool ready = report.ready;
	iommu_report_free(&report);
	if (fflush(stdout) != 0 || r < 0) {
		log_error_errno(r < 0 ? r : -EIO, "cannot write the report");
		return EXIT_NOT_READY;
	}
	if (a->snapshot && write_snapshot(root, a->snapshot) < 0)
		return EXIT_NOT_READY;
	/* --groups and --format nfd describe (NFD wants labels either way);
	 * only the report judges. */
	return ready || a->groups_only || a->format == FORMAT_NFD ? 0 : EXIT_NOT_READY;
}

int iommu_check_main(int argc, char **argv, const char *program)
{
	struct args a = { .color = -1 };
	log_set_program(program);
	int r = parse_args(argc, argv, program, &a);
	if (r != 0) {
		free(a.bdfs);
		return r > 0 ? 0 : EXIT_BAD_USAGE;
	}
	struct host_root root;
	r = host_root_open(&root, a.root ? a.root : "/");
	if (r < 0) {
		free(a.bdfs);
		log_error_errno(r, "cannot open --root %s", a.root ? a.root : "/");
		return EXIT_BAD_USAGE;
	}
	/* A tree that cannot be listed, or holds no sys/, is a mistyped or
	 * unpacked-elsewhere --root: bad input, not a host without an IOMMU. */
	char **top = NULL;
	size_t n_top = 0;
	if (!root.is_real && ((r = host_root_list_dir(&root, ".", &top, &n_top)) < 0 ||
			      !host_root_exists(&root, "sys"))) {
		if (r < 0)
			log_error_errno(r, "cannot read --root %s", root.path);
		else
			log_error("--root %s holds no sys/ directory (point it at the top of a "
				  "captured tree or unpacked snapshot)", root.path);
		strv_free(top, n_top);
		host_root_close(&root);
		free(a.bdfs);
		return EXIT_BAD_USAGE;
	}
	strv_free(top, n_top);
	if (!root.is_real && host_root_exists(&root, IOMMU_ERRORS_PATH) &&
	    (r = host_root_replay_load(&root, IOMMU_ERRORS_PATH)) < 0) {
		log_error_errno(r, "cannot read %s/%s", root.path, IOMMU_ERRORS_PATH);
		host_root_close(&root);
		free(a.bdfs);
		return EXIT_BAD_USAGE;
	}
	if (a.snapshot && (r = host_root_record_start(&root)) < 0) {
		log_error_errno(r, "cannot record for --snapshot");
		host_root_close(&root);
		free(a.bdfs);
		return EXIT_NOT_READY;
	}
	int status = run(&a, &root);
	host_root_close(&root);
	free(a.bdfs);
	return status;
}
