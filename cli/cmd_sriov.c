// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * passvm sriov: SR-IOV virtual functions (docs/sriov.md).
 *   passvm sriov [--root DIR] list [--json]
 *   passvm sriov [--root DIR] create PF COUNT [--bind vfio|host|none]
 *                [--nvme-queues N] [--nvme-interrupts N] [--timeout-ms N] [--force]
 *   passvm sriov [--root DIR] remove [--force] PF
 *   passvm sriov [--root DIR] set VF KEY=VALUE...
 *   passvm sriov [--root DIR] apply [--dry-run] [--config FILE]
 * --root points the host root at a fixture tree or snapshot (tests).
 */
#include "cli.h"
#include "common.h"
#include "sriov.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_sriov(int argc, char **argv); /* listed in passvm.c */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: passvm sriov [--root DIR] COMMAND ...\n"
		"  list [--json]                          SR-IOV PFs and their VFs\n"
		"  create PF COUNT [--bind vfio|host|none] [--nvme-queues N] [--nvme-interrupts N]\n"
		"                 [--force]               make PF have COUNT VFs (default bind: host;\n"
		"                                         --force: replace VFs in use on the host)\n"
		"  remove [--force] PF                    remove PF's VFs\n"
		"  set VF KEY=VALUE...                    network VF settings: mac vlan qos trust\n"
		"                                         spoofchk link rate (over rtnetlink)\n"
		"  apply [--dry-run] [--config FILE]      make the host match " SRIOV_CONF_PATH "\n");
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

/* ---- list ---------------------------------------------------------------- */

static const char *or_none(const char *s)
{
	return s[0] ? s : "-";
}

static void print_net_vf(const struct sriov_net_vf *n)
{
	char mac[24];
	sriov_format_mac(n->mac, mac);
	printf("      mac %s vlan %u qos %u trust %s spoofchk %s link %s rate %u\n", mac,
	       n->vlan, n->qos, n->trust ? "on" : "off", n->spoofchk ? "on" : "off",
	       sriov_link_state_name(n->link_state), n->max_tx_rate);
}

static void list_text(const struct host_root *root, const struct sriov_pf *pfs, size_t n)
{
	if (!n)
		printf("no SR-IOV capable PCI functions\n");
	for (size_t i = 0; i < n; i++) {
		const struct sriov_pf *pf = &pfs[i];
		struct sriov_vf_provision prov[SRIOV_MAX_VFS];
		struct sriov_net_vf net[SRIOV_MAX_VFS];
		size_t nnet = 0;
		const struct sriov_provisioner *p = sriov_provisioner_for(pf);
		bool have_prov = p && pf->nvfs && p->query(root, pf, pf->num_vfs, prov) == 0;
		bool have_net = root->is_real && pf->netdev[0] &&
				sriov_net_query(pf->netdev, net, SRIOV_MAX_VFS, &nnet) == 0;
		printf("PF %s  %04x:%04x  driver %s  VFs %u/%u  autoprobe %s  netdev %s",
		       pf->info.bdf, pf->info.vendor, pf->info.device, or_none(pf->info.driver),
		       pf->num_vfs, pf->total_vfs, pf->autoprobe ? "on" : "off",
		       or_none(pf->netdev));
		if (pf->nvme_ctrl[0])
			printf("  nvme %s serial %s", pf->nvme_ctrl, or_none(pf->serial));
		printf("\n   path %s\n", or_none(pf->pci_path));
		for (size_t v = 0; v < pf->nvfs; v++) {
			const struct sriov_vf *vf = &pf->vfs[v];
			printf("  VF %-3u %s  group %-3d driver %-10s netdev %s", vf->index,
			       vf->info.bdf, vf->info.iommu_group, or_none(vf->info.driver),
			       or_none(vf->netdev));
			if (have_prov && vf->index < pf->num_vfs) {
				const struct sriov_vf_provision *q = &prov[vf->index];
				printf("  secondary %u queues %u interrupts %u %s", q->secondary_id,
				       q->queues, q->interrupts, q->online ? "online" : "offline");
			}
			printf("\n");
			for (size_t k = 0; have_net && k < nnet; k++)
				if (net[k].vf == vf->index)
					print_net_vf(&net[k]);
		}
	}
}

static void list_json(const struct host_root *root, const struct sriov_pf *pfs, size_t n)
{
	printf("[");
	for (size_t i = 0; i < n; i++) {
		const struct sriov_pf *pf = &pfs[i];
		struct sriov_vf_provision prov[SRIOV_MAX_VFS];
		struct sriov_net_vf net[SRIOV_MAX_VFS];
		size_t nnet = 0;
		const struct sriov_provisioner *p = sriov_provisioner_for(pf);
		bool have_prov = p && pf->nvfs && p->query(root, pf, pf->num_vfs, prov) == 0;
		bool have_net = root->is_real && pf->netdev[0] &&
				sriov_net_query(pf->netdev, net, SRIOV_MAX_VFS, &nnet) == 0;
		printf("%s\n {\"bdf\": ", i ? "," : "");
		json_string(pf->info.bdf);
		printf(", \"vendor\": \"%04x\", \"device\": \"%04x\", \"driver\": ",
		       pf->info.vendor, pf->info.device);
		json_string(pf->info.driver);
		printf(", \"total_vfs\": %u, \"num_vfs\": %u, \"autoprobe\": %s, \"netdev\": ",
		       pf->total_vfs, pf->num_vfs, pf->autoprobe ? "true" : "false");
		json_string(pf->netdev);
		printf(", \"nvme\": ");
		json_string(pf->nvme_ctrl);
		printf(", \"serial\": ");
		json_string(pf->serial);
		printf(", \"path\": ");
		json_string(pf->pci_path);
		printf(", \"vfs\": [");
		for (size_t v = 0; v < pf->nvfs; v++) {
			const struct sriov_vf *vf = &pf->vfs[v];
			printf("%s\n  {\"index\": %u, \"bdf\": ", v ? "," : "", vf->index);
			json_string(vf->info.bdf);
			printf(", \"iommu_group\": %d, \"driver\": ", vf->info.iommu_group);
			json_string(vf->info.driver);
			printf(", \"netdev\": ");
			json_string(vf->netdev);
			if (have_prov && vf->index < pf->num_vfs) {
				const struct sriov_vf_provision *q = &prov[vf->index];
				printf(", \"nvme\": {\"secondary_id\": %u, \"queues\": %u, "
				       "\"interrupts\": %u, \"online\": %s}", q->secondary_id,
				       q->queues, q->interrupts, q->online ? "true" : "false");
			}
			for (size_t k = 0; have_net && k < nnet; k++) {
				if (net[k].vf != vf->index)
					continue;
				char mac[24];
				sriov_format_mac(net[k].mac, mac);
				printf(", \"net\": {\"mac\": \"%s\", \"vlan\": %u, \"qos\": %u, "
				       "\"trust\": %s, \"spoofchk\": %s, \"link\": \"%s\", "
				       "\"rate\": %u}", mac, net[k].vlan, net[k].qos,
				       net[k].trust ? "true" : "false",
				       net[k].spoofchk ? "true" : "false",
				       sriov_link_state_name(net[k].link_state), net[k].max_tx_rate);
			}
			printf("}");
		}
		printf("]}");
	}
	printf("\n]\n");
}

static int do_list(const struct host_root *root, int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc > 2 || (argc == 2 && !json)) {
		log_error("usage: passvm sriov list [--json]");
		return EXIT_USAGE;
	}
	struct sriov_pf *pfs;
	size_t n;
	int r = sriov_pf_list(root, &pfs, &n);
	if (r < 0)
		return log_error_errno(r, "cannot list SR-IOV functions (reading sysfs)"), 1;
	if (json)
		list_json(root, pfs, n);
	else
		list_text(root, pfs, n);
	sriov_pf_list_free(pfs, n);
	return 0;
}

/* ---- shared error reporting ---------------------------------------------- */

static int parse_bdf(const char *text, struct pci_addr *addr)
{
	if (pci_addr_parse(text, addr) == 0)
		return 0;
	log_error("'%s' is not a PCI address: expected DDDD:BB:DD.F or BB:DD.F "
		  "(as lspci -D prints)", text);
	return -EINVAL;
}

static void print_notes(const struct sriov_report *rep)
{
	for (size_t i = 0; i < rep->nnotes; i++)
		printf("  %s\n", rep->notes[i]);
	fflush(stdout);
}

/* One line for each way an operation on PF can fail. */
static int report_error(const struct host_root *root, const char *what,
			const struct pci_addr *pf_addr, int r, const struct sriov_report *rep)
{
	char bdf[PCI_ADDR_STRLEN], culprit[PCI_ADDR_STRLEN];
	pci_addr_format(pf_addr, bdf);
	pci_addr_format(&rep->culprit, culprit);
	switch (r) {
	case -ENODEV:
		log_error("cannot %s %s: no such PCI function (lspci -D lists them); "
			  "nothing was changed", what, bdf);
		break;
	case -EOPNOTSUPP:
		log_error("cannot %s %s: it has no SR-IOV capability (no sriov_totalvfs; "
			  "passvm sriov list shows the capable ones); nothing was changed", what, bdf);
		break;
	case -EXDEV: {
		struct pci_dev_info dev;
		char pf[PCI_ADDR_STRLEN] = "?";
		if (pci_dev_read(root, pf_addr, &dev) == 0)
			pci_addr_format(&dev.physfn, pf);
		log_error("cannot %s %s: it is a VF (of PF %s); name the PF; nothing was "
			  "changed", what, bdf, pf);
		break;
	}
	case -EALREADY:
		log_error("cannot %s %s: passvm's VFIO journal holds it (bound to vfio-pci, or "
			  "an operation crashed); run `passvm vfio restore %s` first; nothing "
			  "was changed", what, bdf, bdf);
		break;
	case -EBUSY:
		log_error("cannot %s %s: %s (a running VM?); stop it first; nothing was changed",
			  what, bdf, rep->why);
		break;
	case -EADDRINUSE:
		log_error("cannot %s %s: %s; stop using it or pass --force; nothing was changed",
			  what, bdf, rep->why);
		break;
	default:
		log_error("cannot %s %s: %s (%s, at %s)%s", what, bdf,
			  rep->why[0] ? rep->why : "failed", strerror(-r), culprit,
			  rep->nnotes ? "; see above for what was undone" : "");
	}
	return 1;
}

/* ---- create / remove ------------------------------------------------------ */

static int parse_count_opt(const char *name, const char *text, uint32_t *out)
{
	uint64_t v;
	if (parse_u64(text, &v) < 0 || v == 0 || v > 0xffff) {
		log_error("%s '%s': expected a whole number from 1 to 65535", name, text);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int do_create(const struct vfio_host *host, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "nvme-queues", required_argument, NULL, 'q' },
		{ "nvme-interrupts", required_argument, NULL, 'i' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sriov_create_opts o = { .bind = SRIOV_BIND_HOST, .timeout_ms = 10000 };
	uint64_t t;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.force = true;
			break;
		case 'b':
			if (sriov_bind_parse(optarg, &o.bind) < 0) {
				log_error("--bind '%s': expected vfio, host or none", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			if (parse_count_opt("--nvme-queues", optarg, &o.prov.nvme_queues) < 0)
				return EXIT_USAGE;
			break;
		case 'i':
			if (parse_count_opt("--nvme-interrupts", optarg, &o.prov.nvme_interrupts) < 0)
				return EXIT_USAGE;
			break;
		case 't':
			if (parse_u64(optarg, &t) < 0 || t > 600000) {
				log_error("--timeout-ms '%s': expected milliseconds, at most 600000",
					  optarg);
				return EXIT_USAGE;
			}
			o.timeout_ms = (int)t;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("%s: unknown option or missing value '%s' (passvm sriov --help); "
				  "nothing was changed", argv[0], argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		log_error("usage: passvm sriov create PF COUNT [--bind vfio|host|none]");
		return EXIT_USAGE;
	}
	struct pci_addr pf;
	uint64_t count;
	if (parse_bdf(argv[optind], &pf) < 0)
		return EXIT_USAGE;
	if (parse_u64(argv[optind + 1], &count) < 0 || count > SRIOV_MAX_VFS) {
		log_error("COUNT '%s': expected a whole number of VFs (0 to %d); nothing was "
			  "changed", argv[optind + 1], SRIOV_MAX_VFS);
		return EXIT_USAGE;
	}
	o.count = (unsigned)count;

	static struct sriov_report rep;
	int r = sriov_create(host, &pf, &o, &rep);
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(&pf, bdf);
	if (r == -ERANGE) {
		struct sriov_pf info;
		unsigned total = 0;
		if (sriov_pf_read(host->root, &pf, &info) == 0) {
			total = info.total_vfs;
			sriov_pf_free(&info);
		}
		log_error("cannot create %u VFs on %s: it supports at most %u "
			  "(sriov_totalvfs); nothing was changed", o.count, bdf, total);
		return 1;
	}
	/* Refusals before any change are one line; once steps ran, the
	 * notes say what was done (and undone). */
	if (r == 0 || rep.nnotes) {
		printf("%s: %u VF(s), bind %s\n", bdf, o.count, sriov_bind_name(o.bind));
		print_notes(&rep);
	}
	if (r < 0)
		return report_error(host->root, "create VFs on", &pf, r, &rep);
	for (size_t i = 0; i < rep.nprov; i++)
		printf("  VF %u: NVMe secondary controller %u, %u queues, %u interrupts, %s\n",
		       rep.prov[i].vf_index, rep.prov[i].secondary_id, rep.prov[i].queues,
		       rep.prov[i].interrupts, rep.prov[i].online ? "online" : "offline");
	struct sriov_pf now;
	if (sriov_pf_read(host->root, &pf, &now) == 0) {
		for (size_t i = 0; i < now.nvfs; i++)
			printf("  VF %u %s  IOMMU group %d  %s\n", now.vfs[i].index,
			       now.vfs[i].info.bdf, now.vfs[i].info.iommu_group,
			       or_none(now.vfs[i].info.driver));
		sriov_pf_free(&now);
	}
	return 0;
}

static int do_remove(const struct vfio_host *host, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool force = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("%s: unknown option or missing value '%s' (passvm sriov --help); "
				  "nothing was changed", argv[0], argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		log_error("usage: passvm sriov remove [--force] PF");
		return EXIT_USAGE;
	}
	struct pci_addr pf;
	if (parse_bdf(argv[optind], &pf) < 0)
		return EXIT_USAGE;
	static struct sriov_report rep;
	int r = sriov_remove(host, &pf, force, &rep);
	if (r < 0 && r != -ENODEV && r != -EOPNOTSUPP && r != -EXDEV && r != -EBUSY &&
	    r != -EADDRINUSE && r != -EALREADY)
		print_notes(&rep);
	if (r < 0)
		return report_error(host->root, "remove the VFs of", &pf, r, &rep);
	print_notes(&rep);
	return 0;
}

/* ---- set ------------------------------------------------------------------ */

static int do_set(const struct vfio_host *host, int argc, char **argv)
{
	if (argc < 3) {
		log_error("usage: passvm sriov set VF KEY=VALUE... (mac vlan qos trust spoofchk "
			  "link rate)");
		return EXIT_USAGE;
	}
	struct pci_addr addr;
	if (parse_bdf(argv[1], &addr) < 0)
		return EXIT_USAGE;
	/* Every setting is checked before anything is sent. */
	struct sriov_net_vf s = { 0 };
	char why[160];
	for (int i = 2; i < argc; i++) {
		char key[32];
		const char *eq = strchr(argv[i], '=');
		if (!eq || (size_t)(eq - argv[i]) >= sizeof(key)) {
			log_error("'%s': expected KEY=VALUE; nothing was changed", argv[i]);
			return EXIT_USAGE;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[i]), argv[i]);
		unsigned k = sriov_net_key_parse(key);
		if (k && (s.has & k)) {
			log_error("%s given twice; nothing was changed", key);
			return EXIT_USAGE;
		}
		if (sriov_net_parse_setting(&s, key, eq + 1, why, sizeof(why)) < 0) {
			log_error("%s; nothing was changed", why);
			return EXIT_USAGE;
		}
	}
	if (sriov_net_check(&s, why, sizeof(why)) < 0) {
		log_error("%s; nothing was changed", why);
		return EXIT_USAGE;
	}
	struct pci_dev_info dev;
	char bdf[PCI_ADDR_STRLEN];
	pci_addr_format(&addr, bdf);
	int r = pci_dev_read(host->root, &addr, &dev);
	if (r == -ENODEV)
		return log_error("cannot set %s: no such PCI function; nothing was changed", bdf), 1;
	if (r < 0)
		return log_error_errno(r, "cannot set %s: reading sysfs failed", bdf), 1;
	if (!dev.is_virtfn)
		return log_error("cannot set %s: it is not a VF (settings are per VF; passvm "
				 "sriov list shows them); nothing was changed", bdf), 1;
	struct sriov_pf pf;
	r = sriov_pf_read(host->root, &dev.physfn, &pf);
	if (r < 0)
		return log_error_errno(r, "cannot set %s: reading its PF failed", bdf), 1;
	for (size_t i = 0; i < pf.nvfs; i++)
		if (pci_addr_equal(&pf.vfs[i].info.addr, &addr))
			s.vf = pf.vfs[i].index;
	char netdev[SRIOV_NAME_LEN];
	snprintf(netdev, sizeof(netdev), "%s", pf.netdev);
	char pfbdf[PCI_ADDR_STRLEN];
	snprintf(pfbdf, sizeof(pfbdf), "%s", pf.info.bdf);
	sriov_pf_free(&pf);
	if (!netdev[0] || !host->root->is_real)
		return log_error("cannot set %s: its PF %s has no network interface (these are "
				 "network VF settings); nothing was changed", bdf, pfbdf), 1;
	r = sriov_net_set(netdev, &s);
	if (r < 0)
		return log_error_errno(r, "cannot set vf %u of %s (%s): the PF driver refused "
				       "(RTM_SETLINK)", s.vf, netdev, pfbdf), 1;
	printf("%s: vf %u of %s (%s) set\n", bdf, s.vf, netdev, pfbdf);
	return 0;
}

/* ---- apply ---------------------------------------------------------------- */

/* Reads the config: FILE as given, or /etc/passvm/sriov.conf in the host root. */
static int read_config(const struct host_root *root, const char *file, char **text,
		       size_t *len)
{
	int fd = file ? open(file, O_RDONLY | O_CLOEXEC)
		      : host_root_openat(root, &SRIOV_CONF_PATH[1], O_RDONLY);
	if (fd < 0)
		return file ? -errno : fd;
	size_t cap = 4096, used = 0;
	char *buf = malloc(cap);
	int r = buf ? 0 : -ENOMEM;
	while (r == 0) {
		if (used == cap) {
			if (cap >= (1u << 20)) {
				r = -EFBIG;
				break;
			}
			char *g = realloc(buf, cap * 2);
			if (!g) {
				r = -ENOMEM;
				break;
			}
			buf = g;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*text = buf;
	*len = used;
	return 0;
}

static int run_action(const struct vfio_host *host, const char *name,
		      const struct sriov_conf *conf,
		      const struct sriov_observed_pf *obs, const struct sriov_action *a,
		      int timeout_ms)
{
	const struct sriov_conf_pf *c = &conf->pfs[a->pf];
	const struct sriov_observed_pf *o = &obs[a->pf];
	static struct sriov_report rep;
	int r = 0;
	memset(&rep, 0, sizeof(rep));
	switch (a->kind) {
	case SRIOV_ACT_MISSING:
	case SRIOV_ACT_TOO_MANY:
		log_error("%s: %s", name, a->text);
		return -ENODEV;
	case SRIOV_ACT_CREATE: {
		struct sriov_create_opts opt = { .count = c->vfs, .bind = c->bind, .prov = c->prov,
						 .timeout_ms = timeout_ms };
		r = sriov_create(host, &o->addr, &opt, &rep);
		print_notes(&rep);
		if (r < 0)
			report_error(host->root, "create VFs on", &o->addr, r, &rep);
		return r;
	}
	case SRIOV_ACT_PROVISION:
	case SRIOV_ACT_BIND: {
		struct sriov_pf pf;
		r = sriov_pf_read(host->root, &o->addr, &pf);
		if (r < 0)
			return report_error(host->root, "configure", &o->addr, r, &rep), r;
		const struct sriov_provisioner *p = sriov_provisioner_for(&pf);
		if (a->kind == SRIOV_ACT_PROVISION && p) {
			r = p->provision(host->root, &pf, pf.num_vfs, &c->prov, rep.prov, rep.why,
					 sizeof(rep.why));
			if (r > 0)
				r = 0;
		} else if (a->kind == SRIOV_ACT_BIND) {
			bool want[SRIOV_MAX_VFS] = { false };
			want[a->vf] = true;
			/* Off vfio-pci only when no VM holds the VF. */
			if (c->bind != SRIOV_BIND_VFIO)
				r = sriov_check_vfs_free(host, &pf, true, &rep);
			if (r == 0)
				r = sriov_bind_vfs(host, &pf, want, c->bind, timeout_ms, &rep);
		}
		sriov_pf_free(&pf);
		print_notes(&rep);
		if (r < 0)
			report_error(host->root, "configure", &o->addr, r, &rep);
		return r;
	}
	case SRIOV_ACT_SET:
		if (!o->netdev[0] || !host->root->is_real) {
			log_error("%s:%d: vf %u of %s: its PF has no network interface for network "
				  "settings", name, c->line, a->vf, o->bdf);
			return -ENODEV;
		}
		r = sriov_net_set(o->netdev, &a->net);
		if (r < 0)
			log_error_errno(r, "cannot set vf %u of %s (%s)", a->vf, o->netdev, o->bdf);
		return r;
	}
	return -EINVAL;
}

static int do_apply(const struct vfio_host *host, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool dry_run = false;
	const char *file = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'c':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_error("%s: unknown option or missing value '%s' (passvm sriov --help); "
				  "nothing was changed", argv[0], argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		log_error("usage: passvm sriov apply [--dry-run] [--config FILE]");
		return EXIT_USAGE;
	}
	const char *name = file ? file : SRIOV_CONF_PATH;
	char *text = NULL, err[320];
	size_t len = 0;
	int r = read_config(host->root, file, &text, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read %s", name), 1;
	struct sriov_conf conf;
	r = sriov_conf_parse(text, len, name, &conf, err, sizeof(err));
	free(text);
	if (r < 0) {
		sriov_conf_free(&conf);
		if (r == -EINVAL)
			log_error("%s; nothing was changed", err);
		else
			log_error_errno(r, "cannot parse %s", name);
		return 1;
	}
	struct sriov_observed_pf *obs = calloc(conf.count ? conf.count : 1, sizeof(*obs));
	struct sriov_action *acts = NULL;
	size_t nacts = 0;
	r = obs ? sriov_observe(host->root, &conf, obs) : -ENOMEM;
	if (r == 0)
		r = sriov_plan(&conf, obs, &acts, &nacts);
	if (r < 0) {
		log_error_errno(r, "cannot plan %s (reading sysfs)", name);
		free(obs);
		sriov_conf_free(&conf);
		return 1;
	}
	printf("plan for %s: %zu change(s)\n", name, nacts);
	for (size_t i = 0; i < nacts; i++)
		printf("  %s\n", acts[i].text);
	fflush(stdout);
	int rc = 0;
	for (size_t i = 0; i < nacts; i++) {
		bool error_kind = acts[i].kind == SRIOV_ACT_MISSING ||
				  acts[i].kind == SRIOV_ACT_TOO_MANY;
		if (dry_run && !error_kind)
			continue;
		if (run_action(host, name, &conf, obs, &acts[i], 10000) < 0)
			rc = 1;
	}
	if (!dry_run && rc == 0 && nacts)
		printf("applied\n");
	free(acts);
	free(obs);
	sriov_conf_free(&conf);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

static int do_list_on_host(const struct vfio_host *host, int argc, char **argv)
{
	return do_list(host->root, argc, argv);
}

int cmd_sriov(int argc, char **argv)
{
	static const struct cli_subcommand subs[] = {
		{ "list", do_list_on_host },
		{ "create", do_create },
		{ "remove", do_remove },
		{ "set", do_set },
		{ "apply", do_apply },
	};
	/* getopt's own messages are several lines; ours are one. */
	opterr = 0;
	return cli_run_group("sriov", argc, argv, subs, ARRAY_SIZE(subs), usage);
}
