// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM phase "set up networks": for each --net, the host side (net_host.c)
 * and the virtio-net device on it. Undone in reverse; a failure part way
 * closes what was opened, so no tap outlives a VM that did not start.
 */
#include "net.h"
#include "virtio_net.h"
#include "vmm.h"

#include <errno.h>
#include <stdlib.h>

struct vmm_vm_net {
	unsigned nr;
	struct vmm_net_host hosts[VMM_NET_MAX_IFS];
	struct vmm_virtio_net *devs[VMM_NET_MAX_IFS];
};

static void teardown(struct vmm_vm_net *n)
{
	while (n->nr > 0) {
		n->nr--;
		if (n->devs[n->nr])
			vmm_virtio_net_destroy(n->devs[n->nr]); /* closes the host side */
		else
			vmm_net_host_close(&n->hosts[n->nr]);
	}
	free(n);
}

int vmm_vm_net_setup(struct vmm_vm *vm)
{
	if (vm->cfg.nr_nets == 0)
		return 0;
	if (vm->cfg.nr_nets > VMM_NET_MAX_IFS) {
		vm->failed_detail = "count";
		return -E2BIG;
	}
	struct vmm_vm_net *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->cfg.nr_nets; i++) {
		vm->failed_index = i;
		int r = vmm_net_host_open(&n->hosts[i], &vm->root, &vm->cfg.nets[i],
					  &vm->failed_detail);
		if (r < 0) {
			teardown(n);
			return r;
		}
		n->nr = i + 1;
		vm->failed_detail = "device";
		r = vmm_virtio_net_create(&n->devs[i], vm, &n->hosts[i], i);
		if (r < 0) {
			teardown(n);
			return r;
		}
	}
	vm->net = n;
	vm->failed_detail = NULL;
	vm->failed_index = 0;
	return 0;
}

void vmm_vm_net_teardown(struct vmm_vm *vm)
{
	if (vm->net)
		teardown(vm->net);
	vm->net = NULL;
}
