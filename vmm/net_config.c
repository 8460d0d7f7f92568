// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The --net option's grammar. Pure: no host access, so every error a user
 * can make is found (and named, in one line) before anything is created.
 */
#include "net.h"
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vmm_net_parse_mac(const char *text, uint8_t mac[6])
{
	if (strlen(text) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = text + i * 3;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* The I/G bit makes a group address, which no station may have
	 * (IEEE 802-2014 8.2); all zeroes is no address at all. */
	static const uint8_t zero[6];
	if ((mac[0] & 1) || memcmp(mac, zero, 6) == 0)
		return -EINVAL;
	return 0;
}

void vmm_net_format_mac(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

void vmm_net_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6) {
		/* getrandom(2) of 6 bytes does not fail once the pool is
		 * initialised; a fixed fallback still gives a valid address. */
		static const uint8_t fallback[6] = { 0x02, 0x70, 0x76, 0x6d, 0, 1 };
		memcpy(mac, fallback, 6);
	}
	mac[0] = (uint8_t)((mac[0] & ~1u) | 2u); /* unicast, locally administered */
}

bool vmm_net_ifname_valid(const char *name)
{
	/* net/core/dev.c dev_valid_name: 1..IFNAMSIZ-1 bytes, not "." or
	 * "..", no '/', ':' or white space. */
	size_t n = strlen(name);
	if (n == 0 || n >= IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return false;
	}
	return true;
}

#define WHY(...) (snprintf(why, why_size, __VA_ARGS__), -EINVAL)

static int parse_item(struct vmm_net_config *cfg, const char *key, const char *value,
		      unsigned *seen, char *why, size_t why_size)
{
	static const char *const keys[] = { "bridge", "tap", "tag", "mac", "queues" };
	unsigned k = 0;
	while (k < ARRAY_SIZE(keys) && strcmp(key, keys[k]) != 0)
		k++;
	if (k == ARRAY_SIZE(keys))
		return WHY("--net: unknown key '%s' (bridge, tap, tag, mac, queues)", key);
	if (*seen & (1u << k))
		return WHY("--net: %s given twice", key);
	*seen |= 1u << k;
	uint64_t v;
	switch (k) {
	case 0:
	case 1:
		if (!vmm_net_ifname_valid(value))
			return WHY("--net: %s '%s' is not an interface name (1 to %d characters, "
				   "no '/', ':' or spaces)", key, value, IFNAMSIZ - 1);
		snprintf(k == 0 ? cfg->bridge : cfg->tap, IFNAMSIZ, "%s", value);
		break;
	case 2:
		/* VID 0 means "priority tag only" and 4095 is reserved
		 * (IEEE 802.1Q-2018 table 9-2). */
		if (parse_u64(value, &v) < 0 || v < 1 || v > 4094)
			return WHY("--net: tag '%s': give a VLAN ID from 1 to 4094", value);
		cfg->vlan = (uint16_t)v;
		break;
	case 3:
		if (vmm_net_parse_mac(value, cfg->mac) < 0)
			return WHY("--net: mac '%s': give a unicast address like 02:00:00:00:00:01",
				   value);
		cfg->has_mac = true;
		break;
	case 4:
		if (parse_u64(value, &v) < 0 || v < 1 || v > VMM_NET_MAX_QUEUE_PAIRS)
			return WHY("--net: queues '%s': give a number of queue pairs from 1 to %d",
				   value, VMM_NET_MAX_QUEUE_PAIRS);
		cfg->queue_pairs = (unsigned)v;
		break;
	}
	return 0;
}

int vmm_net_parse(const char *spec, struct vmm_net_config *cfg, char *why, size_t why_size)
{
	*cfg = (struct vmm_net_config){ .queue_pairs = 1, .spec = spec };
	if (why_size)
		why[0] = '\0';
	char *copy = strdup(spec);
	if (!copy)
		return WHY("--net: out of memory");
	unsigned seen = 0;
	int r = 0, n = 0;
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item && r == 0;
	     item = strtok_r(NULL, ",", &save), n++) {
		char *eq = strchr(item, '=');
		if (!eq) {
			/* The device model; virtio is the only emulated NIC. */
			if (n == 0 && strcmp(item, "virtio") == 0)
				continue;
			r = n == 0 ? WHY("--net: unknown model '%s' (virtio)", item)
				   : WHY("--net: '%s' is not KEY=VALUE", item);
			break;
		}
		*eq = '\0';
		r = parse_item(cfg, item, eq + 1, &seen, why, why_size);
	}
	free(copy);
	if (r < 0)
		return r;
	bool bridge = seen & 1, tap = seen & 2, tag = seen & 4;
	if (bridge == tap)
		return WHY("--net: give one of bridge=BR (a new tap on that bridge) or "
			   "tap=NAME (an existing tap)");
	if (tap && tag)
		return WHY("--net: tag= needs bridge=; with tap= the VLAN is set by whoever "
			   "made the tap");
	cfg->backend = bridge ? VMM_NET_BRIDGE : VMM_NET_TAP;
	return 0;
}
