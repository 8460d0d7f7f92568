// SPDX-License-Identifier: GPL-2.0-or-later
/* sriov.conf: the parser (values, file:line errors) and apply's plan
 * (only what differs; a matching host gives an empty plan). */
#include "sriov.h"
#include "testlib.h"

#include <errno.h>

static int parse(const char *text, struct sriov_conf *c, char *err)
{
	return sriov_conf_parse(text, strlen(text), "t.conf", c, err, 320);
}

/* The error for `text`, which must fail. */
static const char *error_of(const char *text)
{
	static char err[320];
	struct sriov_conf c;
	int r = parse(text, &c, err);
	sriov_conf_free(&c);
	if (r != -EINVAL)
		snprintf(err, sizeof(err), "(no error: %d)", r);
	return err;
}

static void test_good(void)
{
	struct sriov_conf c;
	char err[320];
	const char *text =
		"# a comment\n"
		"pf path=pci0000:00/05.0/00.0   # the NVMe behind rp2\n"
		"\tvfs 2\n"
		"\tbind vfio\n"
		"\tnvme-queues 2\n"
		"\tnvme-interrupts 1\n"
		"\n"
		"pf mac=00:1B:21:AA:BB:CC\r\n"
		"  vfs 4\n"
		"  vf 3 mac=02:00:00:00:00:03 vlan=100 qos=3 trust=on spoofchk=off link=disable rate=1000\n"
		"pf bdf=02:00.0\n"
		"  vfs 0\n";
	CHECK_EQ_INT(parse(text, &c, err), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_INT(c.count, 3);
	if (c.count == 3) {
		CHECK_EQ_INT(c.pfs[0].id_kind, SRIOV_ID_PATH);
		CHECK_EQ_STR(c.pfs[0].id, "pci0000:00/05.0/00.0");
		CHECK_EQ_INT(c.pfs[0].line, 2);
		CHECK_EQ_INT(c.pfs[0].vfs, 2);
		CHECK_EQ_INT(c.pfs[0].bind, SRIOV_BIND_VFIO);
		CHECK_EQ_INT(c.pfs[0].prov.nvme_queues, 2);
		CHECK_EQ_INT(c.pfs[0].prov.nvme_interrupts, 1);
		CHECK_EQ_STR(c.pfs[1].id, "00:1b:21:aa:bb:cc"); /* one spelling */
		CHECK_EQ_INT(c.pfs[1].bind, SRIOV_BIND_HOST);   /* the default */
		CHECK_EQ_INT(c.pfs[1].nvf, 1);
		const struct sriov_net_vf *v = &c.pfs[1].vf[0].net;
		CHECK_EQ_INT(v->vf, 3);
		CHECK_EQ_INT(v->mac[5], 3);
		CHECK_EQ_INT(v->vlan, 100);
		CHECK_EQ_INT(v->qos, 3);
		CHECK(v->trust && !v->spoofchk);
		CHECK_EQ_INT(v->link_state, 2);
		CHECK_EQ_INT(v->max_tx_rate, 1000);
		CHECK_EQ_INT(v->has, SRIOV_NET_MAC | SRIOV_NET_VLAN | SRIOV_NET_QOS |
			     SRIOV_NET_TRUST | SRIOV_NET_SPOOFCHK | SRIOV_NET_LINK | SRIOV_NET_RATE);
		CHECK_EQ_STR(c.pfs[2].id, "0000:02:00.0");
	}
	sriov_conf_free(&c);
	CHECK_EQ_INT(parse("", &c, err), 0);
	CHECK_EQ_INT(c.count, 0);
	sriov_conf_free(&c);
}

static void test_errors(void)
{
	static const struct { const char *text, *err; } cases[] = {
		{ "vfs 2\n", "t.conf:1: 'vfs' outside a pf section (start one with 'pf path=...')" },
		{ "pf path=x\n vfs 2\n bind vfoi\n", "t.conf:3: bind wants vfio, host or none, got 'vfoi'" },
		{ "pf path=x\n vfs two\n", "t.conf:2: vfs wants a whole number from 0 to 256, got 'two'" },
		{ "pf path=x\n vfs 257\n", "t.conf:2: vfs wants a whole number from 0 to 256, got '257'" },
		{ "pf path=x\n vfs 2\n colour blue\n",
		  "t.conf:3: unknown key 'colour' (vfs, bind, nvme-queues, nvme-interrupts, vf)" },
		{ "pf path=x\n bind vfio\n", "t.conf:1: pf path=x has no 'vfs COUNT'" },
		{ "pf path=x\n bind vfio\npf path=y\n vfs 1\n", "t.conf:1: pf path=x has no 'vfs COUNT'" },
		{ "pf colour=x\n", "t.conf:1: unknown PF identity 'colour' (path, serial, mac, bdf)" },
		{ "pf x\n", "t.conf:1: pf wants KIND=VALUE (path=, serial=, mac=, bdf=), got 'x'" },
		{ "pf bdf=00:03\n", "t.conf:1: bdf=00:03 is not a PCI address (DDDD:BB:DD.F)" },
		{ "pf mac=01:00:00:00:00:00\n", "t.conf:1: mac: expected a unicast address like 02:00:00:00:00:01" },
		{ "pf serial=a\n vfs 1\npf serial=a\n", "t.conf:3: pf serial=a is already configured at line 1" },
		{ "pf path=x\n vfs 2\n vf 2 trust=on\n", "t.conf:3: vf 2 is beyond the 2 VF(s) of this pf (vfs 2)" },
		{ "pf path=x\n vfs 2\n vf 0 trust=maybe\n", "t.conf:3: trust: expected on or off" },
		{ "pf path=x\n vfs 2\n vf 0 vlan=4096\n", "t.conf:3: vlan: expected a VLAN ID from 0 (none) to 4095" },
		{ "pf path=x\n vfs 2\n vf 0 qos=3\n", "t.conf:3: qos needs vlan in the same setting" },
		{ "pf path=x\n vfs 2\n vf 0 speed=10\n",
		  "t.conf:3: unknown key 'speed' (mac, vlan, qos, trust, spoofchk, link, rate)" },
		{ "pf path=x\n vfs 2\n vf 0 trust=on\n vf 0 mac=02:00:00:00:00:01\n",
		  "t.conf:4: vf 0 is already configured at line 3" },
		{ "pf path=x\n vfs 2\n vf 0 trust=on trust=off\n", "t.conf:3: trust given twice" },
		{ "pf path=x\n vfs 2\n vf 0\n", "t.conf:3: vf 0 wants at least one KEY=VALUE" },
		{ "pf path=x\n vfs 2\n nvme-queues 1\n",
		  "t.conf:3: nvme-queues wants a whole number from 2 to 65535, got '1'" },
		{ "pf path=x\n vfs 2\n bind\n", "t.conf:3: usage: bind VALUE" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *got = error_of(cases[i].text);
		if (strcmp(got, cases[i].err) != 0) {
			fprintf(stderr, "case %zu: got \"%s\"\n  expected \"%s\"\n", i, got, cases[i].err);
			test_failures++;
		}
	}
	/* A NUL byte and an over-long line are errors, not truncation. */
	struct sriov_conf c;
	char err[320], big[2000];
	CHECK_EQ_INT(sriov_conf_parse("pf path=x\0y\n", 12, "t.conf", &c, err, sizeof(err)), -EINVAL);
	sriov_conf_free(&c);
	memset(big, 'a', sizeof(big));
	CHECK_EQ_INT(sriov_conf_parse(big, sizeof(big), "t.conf", &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "t.conf:1: line longer than 1023 bytes");
	sriov_conf_free(&c);
}

/* ---- plan ---- */

static struct sriov_conf conf_of(const char *text)
{
	struct sriov_conf c;
	char err[320];
	if (parse(text, &c, err) < 0) {
		fprintf(stderr, "bad test config: %s\n", err);
		test_failures++;
	}
	return c;
}

static void observed(struct sriov_observed_pf *o, unsigned num, unsigned total,
		     const char *driver, bool online)
{
	memset(o, 0, sizeof(*o));
	o->found = 1;
	snprintf(o->bdf, sizeof(o->bdf), "0000:00:03.0");
	snprintf(o->netdev, sizeof(o->netdev), "enp0s3");
	o->num_vfs = num;
	o->total_vfs = total;
	o->provisionable = true;
	o->nvf = num;
	for (unsigned i = 0; i < num; i++) {
		o->vf[i].index = i;
		snprintf(o->vf[i].bdf, sizeof(o->vf[i].bdf), "0000:00:03.%u", i + 1);
		snprintf(o->vf[i].driver, sizeof(o->vf[i].driver), "%s", driver);
		o->vf[i].has_prov = true;
		o->vf[i].prov = (struct sriov_vf_provision){ .vf_index = i, .queues = 2,
							      .interrupts = 1, .online = online };
	}
}

static size_t plan(const struct sriov_conf *c, const struct sriov_observed_pf *o,
		   struct sriov_action **a)
{
	size_t n = 0;
	CHECK_EQ_INT(sriov_plan(c, o, a, &n), 0);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  plan: %s\n", (*a)[i].text);
	return n;
}

static void test_plan(void)
{
	struct sriov_conf c = conf_of("pf serial=lab0\n vfs 2\n bind vfio\n");
	struct sriov_observed_pf o;
	struct sriov_action *a = NULL;

	observed(&o, 0, 2, "", false);
	CHECK_EQ_INT(plan(&c, &o, &a), 1);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_CREATE);
	CHECK_EQ_STR(a[0].text, "create 0000:00:03.0 2 VF(s) (now 0), bind vfio");
	free(a);

	/* The host as apply leaves it: nothing to do. */
	observed(&o, 2, 2, "vfio-pci", true);
	CHECK_EQ_INT(plan(&c, &o, &a), 0);
	free(a);

	/* One VF given back to no driver (vfio restore), one offline. */
	observed(&o, 2, 2, "vfio-pci", true);
	o.vf[1].driver[0] = '\0';
	o.vf[0].prov.online = false;
	CHECK_EQ_INT(plan(&c, &o, &a), 2);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_PROVISION);
	CHECK_EQ_INT(a[1].kind, SRIOV_ACT_BIND);
	CHECK_EQ_INT(a[1].vf, 1);
	CHECK_EQ_STR(a[1].text, "bind 0000:00:03.2 (vf 1 of 0000:00:03.0) to vfio (now no driver)");
	free(a);

	/* Another count: create (through 0), nothing per VF. */
	observed(&o, 1, 2, "vfio-pci", true);
	CHECK_EQ_INT(plan(&c, &o, &a), 1);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_CREATE);
	free(a);

	/* Asking more than the device has; and a PF not found. */
	observed(&o, 0, 1, "", false);
	CHECK_EQ_INT(plan(&c, &o, &a), 1);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_TOO_MANY);
	free(a);
	o.found = 0;
	CHECK_EQ_INT(plan(&c, &o, &a), 1);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_MISSING);
	CHECK_EQ_STR(a[0].text, "pf serial=lab0 (line 1): no such SR-IOV PF on this host");
	free(a);
	sriov_conf_free(&c);

	/* Network settings: set only what differs. */
	c = conf_of("pf mac=00:1b:21:aa:bb:cc\n vfs 2\n vf 1 mac=02:00:00:00:00:01 vlan=10\n");
	observed(&o, 2, 2, "iavf", true);
	o.provisionable = false;
	o.vf[1].has_net = true;
	o.vf[1].net = (struct sriov_net_vf){ .vf = 1, .mac = { 2, 0, 0, 0, 0, 1 }, .vlan = 10 };
	CHECK_EQ_INT(plan(&c, &o, &a), 0);
	free(a);
	o.vf[1].net.vlan = 11;
	CHECK_EQ_INT(plan(&c, &o, &a), 1);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_SET);
	CHECK_EQ_INT(a[0].net.vlan, 10);
	CHECK_EQ_STR(a[0].text, "set 0000:00:03.0 vf 1: mac=02:00:00:00:00:01 vlan=10");
	free(a);
	/* host bind: a VF on vfio-pci goes back to the host driver. */
	snprintf(o.vf[0].driver, sizeof(o.vf[0].driver), "vfio-pci");
	o.vf[1].net.vlan = 10;
	CHECK_EQ_INT(plan(&c, &o, &a), 1);
	CHECK_EQ_INT(a[0].kind, SRIOV_ACT_BIND);
	free(a);
	sriov_conf_free(&c);
}

/* Identify CNS 15h as QEMU's nvme returns it for 2 VFs (Figure 287/288). */
static void test_nvme_secondary_list(void)
{
	uint8_t page[4096] = { 0 };
	struct nvme_secondary_ctrl sec[4];
	size_t n = 9;
	page[0] = 2;
	for (int i = 0; i < 2; i++) {
		uint8_t *e = page + 32 + 32 * i;
		e[0] = (uint8_t)(i + 1);           /* SCID */
		e[2] = 0;                          /* PCID */
		e[4] = (uint8_t)i;                 /* SCS: the second online */
		e[8] = (uint8_t)(i + 1);           /* VFN, 1-based */
		e[10] = (uint8_t)(2 * i);          /* NVQ */
		e[12] = (uint8_t)i;                /* NVI */
		e[13] = i ? 0x01 : 0;              /* NVI high byte: 0x0101 */
	}
	CHECK_EQ_INT(nvme_parse_secondary_list(page, sizeof(page), sec, 4, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(sec[1].scid, 2);
	CHECK_EQ_INT(sec[1].vfn, 2);
	CHECK_EQ_INT(sec[1].scs, 1);
	CHECK_EQ_INT(sec[1].nvq, 2);
	CHECK_EQ_INT(sec[1].nvi, 0x0101);
	CHECK_EQ_INT(sec[0].scs, 0);
	/* At most `max` entries kept; a count beyond the page is refused. */
	CHECK_EQ_INT(nvme_parse_secondary_list(page, sizeof(page), sec, 1, &n), 0);
	CHECK_EQ_INT(n, 1);
	page[0] = 128;
	CHECK_EQ_INT(nvme_parse_secondary_list(page, sizeof(page), sec, 4, &n), -EBADMSG);
	page[0] = 2;
	CHECK_EQ_INT(nvme_parse_secondary_list(page, 64, sec, 4, &n), -EBADMSG);
}

int main(void)
{
	test_nvme_secondary_list();
	test_good();
	test_errors();
	test_plan();
	return test_result();
}
