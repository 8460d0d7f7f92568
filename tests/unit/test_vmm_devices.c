// SPDX-License-Identifier: GPL-2.0-or-later
/* Devices without KVM: bus dispatch and bounds, the PCI config-space model
 * (BAR sizing, masks, capabilities, BAR mapping callbacks), the host bridge
 * through CF8/CFC and ECAM, and the 16550A's registers. */
#include "vmm.h"
#include "../testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

struct counter {
	uint64_t last_off;
	uint32_t last_size;
	unsigned reads, writes;
};

static void c_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	struct counter *c = dev;
	c->last_off = off;
	c->last_size = size;
	c->reads++;
	memset(data, 0x5a, size);
}

static void c_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct counter *c = dev;
	c->last_off = off;
	c->last_size = size;
	c->writes++;
}

static const struct vmm_device_ops counter_ops = { "counter", c_read, c_write };

static void test_bus(void)
{
	struct vmm_bus bus;
	struct counter a = { 0 }, b = { 0 };
	uint8_t data[8];
	CHECK_EQ_INT(vmm_bus_init(&bus, "test"), 0);
	CHECK_EQ_INT(vmm_bus_register(&bus, 0x1000, 0x100, &counter_ops, &a), 0);
	CHECK_EQ_INT(vmm_bus_register(&bus, 0x3000, 0x10, &counter_ops, &b), 0);
	CHECK_EQ_INT(vmm_bus_register(&bus, 0x10ff, 2, &counter_ops, &b), -EEXIST);
	CHECK_EQ_INT(vmm_bus_register(&bus, 0x0f00, 0x101, &counter_ops, &b), -EEXIST);
	CHECK_EQ_INT(vmm_bus_register(&bus, 0x2000, 0, &counter_ops, &b), -EINVAL);
	CHECK_EQ_INT(vmm_bus_register(&bus, UINT64_MAX, 2, &counter_ops, &b), -EINVAL);
	CHECK_EQ_INT(vmm_bus_register(&bus, 0x2000, 0x1000, &counter_ops, &b), 0);

	CHECK(vmm_bus_access(&bus, 0x1010, data, 4, false));
	CHECK_EQ_INT(a.last_off, 0x10);
	CHECK_EQ_INT(a.last_size, 4);
	CHECK_EQ_INT(data[3], 0x5a);
	CHECK(vmm_bus_access(&bus, 0x30f, data, 1, true) == false);
	CHECK(vmm_bus_access(&bus, 0x300c, data, 4, true));
	CHECK_EQ_INT(b.last_off, 0xc);
	/* Straddling the end of a range: nobody claims it, reads all-ones. */
	memset(data, 0, sizeof(data));
	CHECK(!vmm_bus_access(&bus, 0x10fe, data, 4, false));
	CHECK_EQ_INT(data[0], 0xff);
	CHECK(!vmm_bus_access(&bus, 0x1000, data, 0, false));
	CHECK(!vmm_bus_access(&bus, 0x1000, data, 16, false));
	CHECK(!vmm_bus_access(&bus, UINT64_MAX, data, 2, false));
	CHECK_EQ_INT(atomic_load(&bus.unclaimed), 5);

	CHECK_EQ_INT(vmm_bus_unregister(&bus, 0x2000, &a), -ENOENT); /* not a's */
	CHECK_EQ_INT(vmm_bus_unregister(&bus, 0x2000, &b), 0);
	CHECK(!vmm_bus_access(&bus, 0x2000, data, 1, false));
	CHECK(vmm_bus_access(&bus, 0x3000, data, 1, false));
	vmm_bus_destroy(&bus);
}

struct bar_log {
	unsigned calls;
	unsigned bar;
	uint64_t addr;
	bool mapped;
};

static void bar_changed(struct vmm_pci_device *pdev, unsigned bar, uint64_t addr, bool mapped)
{
	struct bar_log *l = pdev->opaque;
	l->calls++;
	l->bar = bar;
	l->addr = addr;
	l->mapped = mapped;
}

static const struct vmm_pci_device_ops logged_ops = { .name = "logged", .bar_changed = bar_changed };

static void test_pci_config(void)
{
	static struct vmm_pci_device d;
	struct bar_log log = { 0 };
	vmm_pci_device_init(&d, 0x1af4, 0x1041, 0x020000, &logged_ops, &log);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0, 4), 0x10411af4);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 8, 4), 0x02000000);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0, 4), 0x10411af4);
	/* Read-only fields stay. */
	CHECK_EQ_INT(vmm_pci_config_write(&d, 0, 4, 0xffffffff), 0);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0, 2), 0x1af4);

	/* Bounds and alignment. */
	CHECK_EQ_INT(vmm_pci_config_read(&d, 1, 2), 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 4094, 4), 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 4096, 1), 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0, 3), 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_write(&d, 4096, 4, 0), -EINVAL);
	CHECK_EQ_INT(vmm_pci_config_write(&d, 0xfffffffc, 4, 0), -EINVAL);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 4092, 4), 0);

	/* BARs: a 4 KiB 32-bit one, a 16 KiB 64-bit one, an I/O one. */
	CHECK_EQ_INT(vmm_pci_device_set_bar(&d, 0, 0x1000, 0), 0);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&d, 2, 0x4000, VMM_PCI_BAR_MEM64 | VMM_PCI_BAR_PREFETCH), 0);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&d, 4, 0x20, VMM_PCI_BAR_IO), 0);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&d, 5, 0x4000, VMM_PCI_BAR_MEM64), -EINVAL);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&d, 1, 0x3000, 0), -EINVAL);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&d, 6, 0x1000, 0), -EINVAL);
	/* Sizing: write all-ones, read back the size mask with the flags. */
	vmm_pci_config_write(&d, 0x10, 4, 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0x10, 4), 0xfffff000);
	vmm_pci_config_write(&d, 0x18, 4, 0xffffffff);
	vmm_pci_config_write(&d, 0x1c, 4, 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0x18, 4), 0xffffc00c);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0x1c, 4), 0xffffffff);
	vmm_pci_config_write(&d, 0x20, 4, 0xffffffff);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0x20, 4), 0xffffffe1);
	CHECK_EQ_INT(log.calls, 0); /* decoding is off */

	/* Program and enable memory decoding: BAR 0 and BAR 2 map. */
	vmm_pci_config_write(&d, 0x10, 4, 0xc0001000);
	vmm_pci_config_write(&d, 0x18, 4, 0x00000000);
	vmm_pci_config_write(&d, 0x1c, 4, 0x00000080);
	vmm_pci_config_write(&d, 0x04, 2, 0x0002);
	CHECK_EQ_INT(log.calls, 2);
	CHECK(d.bars[0].mapped && d.bars[0].mapped_addr == 0xc0001000);
	CHECK(d.bars[2].mapped && d.bars[2].mapped_addr == 0x8000000000ULL);
	CHECK(!d.bars[4].mapped);
	/* Moving BAR 0: unmapped at the old address, mapped at the new. */
	log.calls = 0;
	vmm_pci_config_write(&d, 0x10, 4, 0xc0002000);
	CHECK_EQ_INT(log.calls, 2);
	CHECK_EQ_INT(log.addr, 0xc0002000);
	CHECK(log.mapped);
	/* Sizing while decoding: the BAR stops decoding until programmed. */
	vmm_pci_config_write(&d, 0x10, 4, 0xffffffff);
	CHECK(!d.bars[0].mapped);
	/* Turning decoding off unmaps everything. */
	vmm_pci_config_write(&d, 0x04, 2, 0);
	CHECK(!d.bars[2].mapped);
	CHECK(!log.mapped);

	/* Status error bits are write-1-to-clear; others read-only. */
	d.config[6] = 0x10;
	d.config[7] = 0xf9;
	vmm_pci_config_write(&d, 0x06, 2, 0x0100 | 0x10);
	CHECK_EQ_INT(vmm_pci_config_read(&d, 0x06, 2), 0xf810);

	/* Capabilities: linked list from 0x34, dword aligned. */
	static struct vmm_pci_device c;
	vmm_pci_device_init(&c, 1, 2, 0, NULL, NULL);
	int o1 = vmm_pci_device_add_capability(&c, 0x05, 14);
	int o2 = vmm_pci_device_add_capability(&c, 0x11, 12);
	CHECK_EQ_INT(o1, 0x40);
	CHECK_EQ_INT(o2, 0x50);
	CHECK_EQ_INT(c.config[0x34], 0x40);
	CHECK_EQ_INT(c.config[0x41], 0x50);
	CHECK_EQ_INT(c.config[0x51], 0);
	CHECK(c.config[6] & 0x10);
	CHECK_EQ_INT(vmm_pci_device_add_capability(&c, 0x09, 200), -ENOSPC);
}

static uint32_t cf8_read(struct vmm_bus *pio, uint32_t addr, uint32_t off, uint32_t size)
{
	uint8_t d[4];
	memcpy(d, &addr, 4);
	vmm_bus_access(pio, 0xcf8, d, 4, true);
	uint32_t v = 0;
	vmm_bus_access(pio, 0xcfc + off, d, size, false);
	memcpy(&v, d, size);
	return v;
}

static void test_pci_host(void)
{
	static struct vmm_pci_host host;
	static struct vmm_pci_device dev;
	struct vmm_bus pio, mmio;
	struct vmm_memory_map map;
	struct bar_log log = { 0 };
	CHECK_EQ_INT(vmm_memory_map_build(&map, 1ULL << 30, 40), 0);
	vmm_bus_init(&pio, "pio");
	vmm_bus_init(&mmio, "mmio");
	CHECK_EQ_INT(vmm_pci_host_init(&host, &pio, &mmio, &map), 0);

	CHECK_EQ_INT(cf8_read(&pio, 0x80000000, 0, 4), 0x00081b36);
	CHECK_EQ_INT(cf8_read(&pio, 0x80000008, 0, 4), 0x06000000);
	CHECK_EQ_INT(cf8_read(&pio, 0x80000000, 2, 2), 0x0008);
	CHECK_EQ_INT(cf8_read(&pio, 0x00000000, 0, 4), 0xffffffff); /* not enabled */
	CHECK_EQ_INT(cf8_read(&pio, 0x80000800, 0, 4), 0xffffffff); /* 00:01.0 */
	CHECK_EQ_INT(cf8_read(&pio, 0x80010000, 0, 4), 0xffffffff); /* bus 1 */

	vmm_pci_device_init(&dev, 0x1af4, 0x1042, 0x018000, &logged_ops, &log);
	vmm_pci_device_set_bar(&dev, 0, 0x1000, 0);
	vmm_pci_device_set_bar(&dev, 2, 0x100000, VMM_PCI_BAR_MEM64);
	CHECK_EQ_INT(vmm_pci_host_add(&host, &dev), 1);
	CHECK(dev.bars[0].mapped && dev.bars[0].mapped_addr == VMM_MMIO32_START);
	CHECK(dev.bars[2].mapped && dev.bars[2].mapped_addr == map.mmio64_start);
	CHECK_EQ_INT(log.calls, 2);
	CHECK_EQ_INT(cf8_read(&pio, 0x80000800, 0, 4), 0x10421af4);

	/* ECAM: bus 0, device 1, register 0x10 = BAR 0. */
	uint8_t d[4];
	CHECK(vmm_bus_access(&mmio, VMM_ECAM_BASE + (1 << 15) + 0x10, d, 4, false));
	uint32_t v;
	memcpy(&v, d, 4);
	CHECK_EQ_INT(v, (uint32_t)VMM_MMIO32_START);
	/* An ECAM write moves the BAR; the device hears of it. */
	v = 0xc0100000;
	memcpy(d, &v, 4);
	vmm_bus_access(&mmio, VMM_ECAM_BASE + (1 << 15) + 0x10, d, 4, true);
	CHECK_EQ_INT(dev.bars[0].mapped_addr, 0xc0100000);
	/* Function 1 and bus 1 do not exist. */
	CHECK(vmm_bus_access(&mmio, VMM_ECAM_BASE + (1 << 15) + (1 << 12), d, 4, false));
	CHECK_EQ_INT(d[0], 0xff);

	vmm_pci_host_destroy(&host);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
}

/* A GPU and its audio function in one slot (multi-function bit set on
 * function 0, functions found through CF8 and ECAM), a single-function
 * device after it with the bit cleared, BARs of a big 64-bit device above
 * 4 GiB, and a plug that does not fit leaving no trace. */
static void test_pci_multifunction(void)
{
	static struct vmm_pci_host host;
	static struct vmm_pci_device gpu, audio, nic, huge;
	struct vmm_bus pio, mmio;
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 1ULL << 30, 40), 0);
	vmm_bus_init(&pio, "pio");
	vmm_bus_init(&mmio, "mmio");
	CHECK_EQ_INT(vmm_pci_host_init(&host, &pio, &mmio, &map), 0);

	vmm_pci_device_init(&gpu, 0x10de, 0x2204, 0x030000, NULL, NULL);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&gpu, 0, 16 << 20, 0), 0);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&gpu, 1, 16ULL << 30,
					    VMM_PCI_BAR_MEM64 | VMM_PCI_BAR_PREFETCH), 0);
	vmm_pci_device_init(&audio, 0x10de, 0x1aef, 0x040300, NULL, NULL);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&audio, 0, 0x4000, 0), 0);
	/* A host function 0 that had the bit keeps it only with peers. */
	vmm_pci_device_init(&nic, 0x8086, 0x10d3, 0x020000, NULL, NULL);
	nic.config[0x0e] = 0x80;

	struct vmm_pci_device *const none[] = { NULL, &audio };
	CHECK_EQ_INT(vmm_pci_host_add_slot(&host, none, 2), -EINVAL);
	CHECK_EQ_INT(vmm_pci_host_add_slot(&host, none, 9), -EINVAL);
	struct vmm_pci_device *const pair[] = { &gpu, &audio };
	CHECK_EQ_INT(vmm_pci_host_add_slot(&host, pair, 2), 1);
	CHECK_EQ_INT(gpu.slot, 1);
	CHECK_EQ_INT(audio.slot, 1);
	CHECK_EQ_INT(audio.function, 1);
	/* 00:01.0 header type has bit 7; 00:01.1 answers; 00:01.2 does not. */
	CHECK_EQ_INT(cf8_read(&pio, 0x8000080c, 2, 1), 0x80);
	CHECK_EQ_INT(cf8_read(&pio, 0x80000900, 0, 4), 0x1aef10de);
	CHECK_EQ_INT(cf8_read(&pio, 0x80000a00, 0, 4), 0xffffffff);
	uint8_t d[4];
	CHECK(vmm_bus_access(&mmio, VMM_ECAM_BASE + (1 << 15) + (1 << 12) + 8, d, 4, false));
	CHECK_EQ_INT(d[3], 0x04);
	CHECK(gpu.bars[1].mapped && gpu.bars[1].mapped_addr == map.mmio64_start);
	CHECK(gpu.bars[1].mapped_addr % (16ULL << 30) == 0);
	CHECK(audio.bars[0].mapped && audio.bars[0].mapped_addr >= gpu.bars[0].mapped_addr + (16 << 20));

	CHECK_EQ_INT(vmm_pci_host_add(&host, &nic), 2);
	CHECK_EQ_INT(nic.config[0x0e], 0);
	CHECK_EQ_INT(nic.function, 0);

	/* Bigger than the whole 64-bit window (2^39 bytes): refused, and the
	 * window cursor does not move, so the next device still fits. */
	uint64_t next = host.mmio64_next;
	vmm_pci_device_init(&huge, 1, 2, 0x030000, NULL, NULL);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&huge, 0, 1ULL << 39, VMM_PCI_BAR_MEM64), 0);
	CHECK_EQ_INT(vmm_pci_device_set_bar(&huge, 2, 1ULL << 20, VMM_PCI_BAR_MEM64), 0);
	CHECK_EQ_INT(vmm_pci_host_add(&host, &huge), -ENOSPC);
	CHECK_EQ_INT(huge.slot, -1);
	CHECK(!huge.bars[2].mapped);
	CHECK_EQ_INT(host.mmio64_next, next);
	CHECK_EQ_INT(cf8_read(&pio, 0x80001800, 0, 4), 0xffffffff); /* 00:03.0 */

	vmm_pci_host_destroy(&host);
	vmm_bus_destroy(&mmio);
	vmm_bus_destroy(&pio);
}

static uint8_t uart_in(struct vmm_uart *u, unsigned reg)
{
	uint8_t v;
	vmm_uart_ops.read(u, reg, &v, 1);
	return v;
}

static void uart_out(struct vmm_uart *u, unsigned reg, uint8_t v)
{
	vmm_uart_ops.write(u, reg, &v, 1);
}

static void test_uart(void)
{
	int fds[2];
	CHECK_EQ_INT(pipe(fds), 0);
	/* No VM: interrupt line changes fail quietly on a closed fd. */
	struct kvm_vm vm = { .fd = -1 };
	struct vmm_irqchip chip = { .vm = &vm };
	struct vmm_uart *u;
	CHECK_EQ_INT(vmm_uart_create(&u, &chip, 4, -1, fds[1]), 0);

	/* What 8250 autoconfig checks: scratch, IER, FIFO, loopback. */
	uart_out(u, 7, 0xa5);
	CHECK_EQ_INT(uart_in(u, 7), 0xa5);
	uart_out(u, 1, 0xff);
	CHECK_EQ_INT(uart_in(u, 1), 0x0f);
	uart_out(u, 1, 0);
	uart_out(u, 2, 0x01);                       /* FIFO on */
	CHECK_EQ_INT(uart_in(u, 2) & 0xc0, 0xc0);
	uart_out(u, 4, 0x10 | 0x0a);                /* loop, OUT2, RTS */
	CHECK_EQ_INT(uart_in(u, 6) & 0xf0, 0x90);
	uart_out(u, 0, 'L');                        /* loops back to RBR */
	CHECK_EQ_INT(uart_in(u, 5) & 0x01, 1);
	CHECK_EQ_INT(uart_in(u, 0), 'L');
	CHECK_EQ_INT(uart_in(u, 5) & 0x01, 0);
	uart_out(u, 4, 0x0b);                       /* DTR, RTS, OUT2 */
	CHECK_EQ_INT(uart_in(u, 6), 0xb0);

	/* Divisor latch does not disturb IER. */
	uart_out(u, 3, 0x83);
	uart_out(u, 0, 0x01);
	uart_out(u, 1, 0x00);
	CHECK_EQ_INT(uart_in(u, 0), 0x01);
	uart_out(u, 3, 0x03);
	CHECK_EQ_INT(uart_in(u, 1), 0);

	/* THRE interrupt: pending when enabled, cleared by reading IIR. */
	CHECK_EQ_INT(uart_in(u, 2) & 0x0f, 0x01);
	uart_out(u, 1, 0x02);
	CHECK_EQ_INT(uart_in(u, 2) & 0x0f, 0x02);
	CHECK_EQ_INT(uart_in(u, 2) & 0x0f, 0x01);
	CHECK_EQ_INT(uart_in(u, 5) & 0x60, 0x60);

	const char *text = "hello\r\nlast line\n";
	for (const char *p = text; *p; p++)
		uart_out(u, 0, (uint8_t)*p);
	char buf[128] = "";
	CHECK_EQ_INT(read(fds[0], buf, sizeof(buf) - 1), (ssize_t)strlen(text));
	CHECK(memcmp(buf, text, strlen(text)) == 0);
	vmm_uart_last_line(u, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "last line");
	uart_out(u, 0, 'x');
	vmm_uart_last_line(u, buf, sizeof(buf));
	CHECK_EQ_STR(buf, "x");
	CHECK(!vmm_uart_panic_line(u, buf, sizeof(buf)));
	text = "\n[    9.3] Kernel panic - not syncing: VFS: no root\n[    9.4] Kernel Offset: 0\n";
	for (const char *p = text; *p; p++)
		uart_out(u, 0, (uint8_t)*p);
	CHECK(vmm_uart_panic_line(u, buf, sizeof(buf)));
	CHECK_EQ_STR(buf, "Kernel panic - not syncing: VFS: no root");
	vmm_uart_destroy(u);
	close(fds[0]);
	close(fds[1]);
}

static enum vmm_power_event last_event;
static void record_event(void *ctx, enum vmm_power_event ev)
{
	last_event = ev;
}

/* Power off, reset register, and the 8042's reset command. */
static void test_power(void)
{
	struct vmm_power pm = { .event = record_event };
	uint8_t v;
	last_event = VMM_POWER_NONE;
	v = 4 << 2 | 0x20;                       /* S4: not offered, ignored */
	vmm_power_ops.write(&pm, 0, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_NONE);
	v = 5 << 2;                              /* S5 without SLP_EN */
	vmm_power_ops.write(&pm, 0, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_NONE);
	v = 5 << 2 | 0x20;
	vmm_power_ops.write(&pm, 0, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_OFF);
	last_event = VMM_POWER_NONE;
	v = 0x80;                                /* clearing WAK_STS */
	vmm_power_ops.write(&pm, 1, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_NONE);
	v = VMM_POWER_RESET_VALUE;
	vmm_power_ops.write(&pm, 2, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_RESET_REQ);

	last_event = VMM_POWER_NONE;
	vmm_i8042_ops.read(&pm, 4, &v, 1);
	CHECK_EQ_INT(v, 0);                      /* input buffer empty */
	v = 0xfe;
	vmm_i8042_ops.write(&pm, 0, &v, 1);      /* data port: not a command */
	CHECK_EQ_INT(last_event, VMM_POWER_NONE);
	v = 0xad;
	vmm_i8042_ops.write(&pm, 4, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_NONE);
	v = 0xfe;
	vmm_i8042_ops.write(&pm, 4, &v, 1);
	CHECK_EQ_INT(last_event, VMM_POWER_RESET_REQ);
}

int main(void)
{
	test_bus();
	test_pci_config();
	test_pci_host();
	test_pci_multifunction();
	test_uart();
	test_power();
	return test_result();
}
