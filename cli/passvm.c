// SPDX-License-Identifier: GPL-2.0-or-later
/* passvm: dispatches to the subcommand named by the first argument. */
#include "cli.h"
#include "common.h"

#include <stdio.h>
#include <string.h>

int cmd_vfio(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sriov(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_terminal(int argc, char **argv);

/* Every subcommand, in the order `passvm help` lists them. */
static const struct cli_command commands[] = {
	{ "help", "show this list", cmd_help },
	{ "version", "print the version", cmd_version },
	{ "check", "can this host pass devices through? (iommu-check)", cmd_check },
	{ "run", "boot a Linux guest on KVM", cmd_run },
	{ "vfio", "bind IOMMU groups to vfio-pci, restore, status, reset", cmd_vfio },
	{ "sriov", "SR-IOV VFs: list, create, remove, set, apply sriov.conf", cmd_sriov },
	{ "create", "store a new VM configuration (ID.conf)", cmd_create },
	{ "set", "change a stored VM configuration", cmd_set },
	{ "config", "print a VM's configuration", cmd_config },
	{ "destroy", "remove a stopped VM's configuration (--purge: its images)", cmd_destroy },
	{ "list", "the VMs: ID, name, status, memory, boot disk, pid", cmd_list },
	{ "start", "start a VM in the background", cmd_start },
	{ "status", "a VM's status: running, paused or stopped", cmd_status },
	{ "shutdown", "press a VM's power button; stop it after --timeout", cmd_shutdown },
	{ "stop", "end a VM at once", cmd_stop },
	{ "reboot", "reset a VM's guest", cmd_reboot },
	{ "pause", "stop a VM's vCPUs", cmd_pause },
	{ "resume", "restart a paused VM's vCPUs", cmd_resume },
	{ "terminal", "attach to a VM's serial console (Ctrl+O detaches)", cmd_terminal },
};

static int cmd_version(int argc, char **argv)
{
	printf("passvm %s\n", PASSVM_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	printf("usage: passvm COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n`passvm COMMAND --help` describes each one.\n");
	return 0;
}

int main(int argc, char **argv)
{
	log_set_program("passvm");
	if (argc < 2) {
		cmd_help(0, NULL);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(0, NULL);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(0, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].main(argc - 1, argv + 1);
	log_error("unknown command '%s' (passvm help lists them)", argv[1]);
	return EXIT_USAGE;
}
