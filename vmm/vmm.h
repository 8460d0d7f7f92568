/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmm/: the KVM virtual machine monitor.
 *
 * Owns: every KVM ioctl (system, VM and vCPU file descriptors), guest memory,
 * vCPU threads, the platform devices and the boot of a guest. Must not: touch
 * sysfs directly (ask common/'s host root) or a VFIO device fd (ask vfio/).
 *
 * Files, one owner each: kvm.c (fds and ioctls), memory.c (memory map and
 * guest RAM), e820.c, bootparams.c (bzImage and zero page), loader.c (files
 * into guest RAM), longmode.c, cpuid.c, msr.c, irqchip.c, bus.c (port and
 * MMIO dispatch), pci.c (config space model), pci_host.c (CF8/CFC + ECAM),
 * uart.c, power.c (ACPI sleep/reset registers), i8042.c, resetvec.c, aml.c + acpi.c (tables),
 * vcpu.c (threads and the exit loop), vm.c (start-up phases); the control
 * socket, console ring and managed main loop have their own header,
 * control.h; emulated devices have theirs: evloop.h (device threads),
 * msix.h (MSI-X for emulated and passed-through functions), virtio.h
 * (virtio-pci transport, virtqueues, virtio-blk, virtio-rng).
 */
#ifndef PASSVM_VMM_H
#define PASSVM_VMM_H

#include "common.h"

#include <asm/bootparam.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <termios.h>

/* ===== kvm.c: /dev/kvm, VM and vCPU file descriptors ===================== */
struct kvm_system {
	int fd;
	int api_version;
	int vcpu_mmap_size;
	int max_vcpus;
};

int kvm_system_open(struct kvm_system *kvm, const struct host_root *root);
void kvm_system_close(struct kvm_system *kvm);
/* KVM_CHECK_EXTENSION on /dev/kvm: >0 supported (often a value), 0 not. */
int kvm_system_check_extension(const struct kvm_system *kvm, long extension);
/* The capabilities passvm cannot run without; on failure *missing names the
 * first one KVM lacks (e.g. "KVM_CAP_IRQCHIP"). */
int kvm_system_check_required(const struct kvm_system *kvm, const char **missing);
/* KVM_GET_SUPPORTED_CPUID into a malloc'ed table; caller frees. */
int kvm_system_supported_cpuid(const struct kvm_system *kvm, struct kvm_cpuid2 **out);

#define KVM_VM_SLOT_WORDS 8  /* 512 memory slots tracked */

struct kvm_vm {
	int fd;
	const struct kvm_system *kvm;
	uint32_t slots_used;                    /* high-water mark */
	uint64_t slots_free[KVM_VM_SLOT_WORDS]; /* removed slots below it */
};

int kvm_vm_create(struct kvm_vm *vm, const struct kvm_system *kvm);
void kvm_vm_destroy(struct kvm_vm *vm);
/* Maps host memory at guest-physical gpa as the next free memory slot. */
int kvm_vm_add_memory(struct kvm_vm *vm, uint64_t gpa, void *host,
		      uint64_t size_bytes, uint32_t *slot_out);
/* Deletes a slot (a passed-through BAR that the guest moved or disabled);
 * the slot number is reused by the next kvm_vm_add_memory. */
int kvm_vm_remove_memory(struct kvm_vm *vm, uint32_t slot);
/* ioctl on the VM fd: its non-negative result, or -errno. */
int kvm_vm_ioctl(const struct kvm_vm *vm, unsigned long request, void *arg);

struct kvm_vcpu {
	int fd;
	unsigned index;
	struct kvm_run *run;
	size_t run_size;
};

int kvm_vcpu_create(struct kvm_vcpu *vcpu, struct kvm_vm *vm, unsigned index);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);
/* KVM_RUN once. Returns 0 and leaves the exit in vcpu->run; -EINTR when a
 * signal (a stop request, see vcpu.c) interrupted it. */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);
/* ioctl on the vCPU fd: its non-negative result, or -errno. */
int kvm_vcpu_ioctl(const struct kvm_vcpu *vcpu, unsigned long request, void *arg);
const char *kvm_exit_reason_name(uint32_t reason);

/* ===== memory.c: the guest-physical memory map and guest RAM ============= */
/*
 * Guest-physical layout (one PCI segment, bus 0):
 *   [0, low)                  RAM (low = min(RAM, 3 GiB))
 *   [3 GiB, 3.5 GiB)          32-bit MMIO window for PCI BARs
 *   [3.5 GiB, +1 MiB)         PCIe ECAM for bus 0 (reserved in e820 and ACPI)
 *   0xFEC00000, 0xFEE00000    IOAPIC, local APICs (in-kernel)
 *   [4 GiB, 4 GiB + rest)     the RAM that did not fit below the hole
 *   [2^(pb-1), 2^pb)          64-bit MMIO window, pb = CPU physical address bits
 * The 64-bit window is the upper half of the physical address space: above
 * any RAM a guest can have, naturally aligned so one MTRR makes it uncached.
 */
#define VMM_PCI_HOLE_START 0xC0000000ULL
#define VMM_MMIO32_START 0xC0000000ULL
#define VMM_MMIO32_END 0xE0000000ULL /* exclusive */
#define VMM_ECAM_BASE 0xE0000000ULL
#define VMM_ECAM_BUSES 1
#define VMM_ECAM_BYTES ((uint64_t)VMM_ECAM_BUSES << 20)
#define VMM_IOAPIC_BASE 0xFEC00000ULL
#define VMM_LAPIC_BASE 0xFEE00000ULL
#define VMM_HIGH_RAM_START 0x100000000ULL
#define VMM_MIN_RAM_BYTES (16ULL << 20)

struct vmm_memory_map {
	uint64_t ram_bytes;
	uint64_t low_ram_bytes;  /* at 0 */
	uint64_t high_ram_bytes; /* at VMM_HIGH_RAM_START */
	uint64_t mmio64_start;
	uint64_t mmio64_end;     /* exclusive */
	unsigned phys_bits;
};

/* -EINVAL: size not a multiple of 4 KiB or below VMM_MIN_RAM_BYTES;
 * -E2BIG: RAM does not fit below the 64-bit window. */
int vmm_memory_map_build(struct vmm_memory_map *map, uint64_t ram_bytes,
			 unsigned phys_bits);
uint64_t vmm_memory_map_ram_top(const struct vmm_memory_map *map);
/* Whether [gpa, gpa + len) touches guest RAM (low or high); an empty or
 * wrapping range counts as touching it, so a caller never maps one. */
bool vmm_memory_map_overlaps_ram(const struct vmm_memory_map *map, uint64_t gpa, uint64_t len);

struct vmm_guest_memory {
	uint8_t *host; /* one mapping: low RAM, then high RAM */
	uint64_t size_bytes;
	bool hugepages;
	struct vmm_memory_map map;
};

/* Anonymous memory, or 2 MiB huge pages (-ENOMEM when the pool is short). */
int vmm_guest_memory_alloc(struct vmm_guest_memory *mem,
			   const struct vmm_memory_map *map, bool hugepages);
void vmm_guest_memory_free(struct vmm_guest_memory *mem);
int vmm_guest_memory_register(const struct vmm_guest_memory *mem, struct kvm_vm *vm);
/* Host address of [gpa, gpa + len) if it lies wholly inside one RAM range;
 * NULL otherwise (overflow-safe: gpa and len may come from a guest). */
void *vmm_gpa_to_host(const struct vmm_guest_memory *mem, uint64_t gpa, uint64_t len);
/* MemTotal of the host, from proc/meminfo under the host root. */
int vmm_host_memory_bytes(const struct host_root *root, uint64_t *bytes);

/* ===== e820.c ============================================================ */
/* Boot-time addresses in low memory the e820 table must call reserved. */
#define VMM_EBDA_START 0x9FC00ULL
#define VMM_BIOS_END 0x100000ULL

/* The e820 table for a memory map; returns the entry count or -ENOSPC. */
int vmm_e820_build(const struct vmm_memory_map *map, struct boot_e820_entry *out,
		   unsigned max);

/* ===== bootparams.c: bzImage header and the zero page ===================== */
/* Fixed guest-physical addresses of the boot path (all in low RAM). */
#define VMM_BOOT_GDT_GPA 0x500ULL
#define VMM_BOOT_STACK_TOP 0x7000ULL     /* grows down, below the zero page */
#define VMM_BOOT_ZERO_PAGE_GPA 0x7000ULL
#define VMM_BOOT_PML4_GPA 0x9000ULL   /* then PDPT 0xA000, PDs 0xB000-0xEFFF */
#define VMM_BOOT_CMDLINE_GPA 0x20000ULL
#define VMM_BOOT_CMDLINE_MAX 0x10000ULL
#define VMM_BOOT_KERNEL_GPA 0x100000ULL
#define VMM_ACPI_GPA 0xE0000ULL        /* tables in the BIOS area, up to 1 MiB */
#define VMM_ACPI_MAX_BYTES 0x20000ULL

struct vmm_bzimage {
	struct setup_header hdr;   /* as in the file */
	size_t setup_bytes;        /* boot sector + real-mode setup */
	size_t kernel_offset;      /* protected-mode kernel in the file */
	size_t kernel_bytes;
};

/* Checks a bzImage (Documentation/arch/x86/boot.rst): boot flag, "HdrS",
 * protocol >= 2.12 and a 64-bit entry point. -ENOEXEC if it is not one. */
int vmm_bzimage_parse(const uint8_t *file, size_t size, struct vmm_bzimage *img);

struct vmm_boot_images {
	uint64_t cmdline_gpa;
	size_t cmdline_len;        /* without the NUL */
	uint64_t initrd_gpa;
	uint64_t initrd_bytes;
	uint64_t rsdp_gpa;
};

/* Fills the zero page from the image's header, the e820 table and where the
 * loader put command line, initrd and RSDP. -E2BIG: command line too long. */
int vmm_boot_params_fill(struct boot_params *bp, const uint8_t *file,
			 const struct vmm_bzimage *img,
			 const struct vmm_boot_images *images,
			 const struct vmm_memory_map *map);

/* Highest page-aligned address for an initrd of `bytes` below both the end
 * of low RAM and the kernel's initrd_addr_max, above `floor`. -ENOSPC. */
int vmm_initrd_place(const struct vmm_memory_map *map, uint32_t initrd_addr_max,
		     uint64_t floor, uint64_t bytes, uint64_t *gpa);

/* ===== loader.c: kernel, initrd and command line into guest RAM ========== */
struct vmm_boot_entry {
	uint64_t rip;  /* 64-bit entry: load address + 0x200 */
	uint64_t rsi;  /* the zero page */
};

/* Which file a load error concerns, for the message at the edge. */
enum vmm_load_object { VMM_LOAD_KERNEL, VMM_LOAD_INITRD, VMM_LOAD_CMDLINE };

int vmm_linux_load(struct vmm_guest_memory *mem, const char *kernel_path,
		   const char *initrd_path, const char *cmdline, uint64_t rsdp_gpa,
		   struct vmm_boot_entry *entry, enum vmm_load_object *failed);

/* ===== resetvec.c: F000:FFF0, where a real-mode reboot lands ============== */
#define VMM_RESET_VECTOR_GPA 0xffff0ULL
/* Real-mode code there that resets through the ACPI reset register. */
int vmm_reset_vector_write(struct vmm_guest_memory *mem);

/* ===== longmode.c: the 64-bit state the VMM sets up itself =============== */
/* Writes GDT and identity page tables (first 4 GiB, 2 MiB pages) into guest
 * RAM at the VMM_BOOT_* addresses. */
int vmm_longmode_write_tables(struct vmm_guest_memory *mem);
/* Segment and control registers for flat 64-bit mode, CS = 0x10, data 0x18
 * (the boot protocol's __BOOT_CS/__BOOT_DS). */
void vmm_longmode_sregs(struct kvm_sregs *sregs);
/* Both of the above plus RIP/RSI/RSP on a vCPU: what the Linux boot path and
 * the kvm tests' 64-bit payloads run through. */
int vmm_longmode_enter(struct vmm_guest_memory *mem, struct kvm_vcpu *vcpu,
		       const struct vmm_boot_entry *entry);

/* ===== cpuid.c ============================================================ */
struct vmm_cpu_topology {
	unsigned cpus;         /* one socket, `cpus` cores, one thread each */
	bool hide_hypervisor;  /* no hypervisor bit, no 0x4000000x leaves */
};

/* The table for vCPU `index` (APIC ID = index): KVM's supported table with
 * topology leaves 0x1/0x4/0xb/0x1f/0x80000008/0x8000001d/0x8000001e
 * rewritten and the hypervisor leaf set or removed. Pure; caller frees. */
int vmm_cpuid_for_vcpu(const struct kvm_cpuid2 *supported,
		       const struct vmm_cpu_topology *topo, unsigned index,
		       struct kvm_cpuid2 **out);
/* CPUID.80000008H:EAX[7:0]; 36 if the leaf is missing. */
unsigned vmm_cpuid_phys_bits(const struct kvm_cpuid2 *cpuid);
const struct kvm_cpuid_entry2 *vmm_cpuid_find(const struct kvm_cpuid2 *cpuid,
					      uint32_t function, uint32_t index);

/* ===== msr.c ============================================================== */
#define VMM_MSR_MAX 40
/* The MSRs a vCPU starts with: MTRRs (default write-back; the 32-bit PCI
 * hole and the 64-bit MMIO window uncached), fixed ranges write-back,
 * MISC_ENABLE, SYSENTER/syscall MSRs zeroed. Pure. Returns the count. */
int vmm_msr_boot_list(const struct vmm_memory_map *map, struct kvm_msr_entry *out,
		      unsigned max);
int vmm_msr_apply(struct kvm_vcpu *vcpu, const struct vmm_memory_map *map);

/* ===== irqchip.c: in-kernel IOAPIC/PIC/LAPIC/PIT and GSI routing ========= */
#define VMM_IOAPIC_PINS 24

struct vmm_irqchip {
	struct kvm_vm *vm;
	pthread_mutex_t lock;   /* routes */
	struct kvm_irq_routing_entry *routes;
	unsigned nr_routes, cap_routes;
	uint32_t next_gsi;      /* first free GSI for MSI routes */
};

int vmm_irqchip_create(struct vmm_irqchip *chip, struct kvm_vm *vm);
void vmm_irqchip_destroy(struct vmm_irqchip *chip);
int vmm_irqchip_set_line(struct vmm_irqchip *chip, uint32_t gsi, bool level);
int vmm_irqchip_signal_msi(struct vmm_irqchip *chip, uint64_t addr, uint32_t data);
/* An MSI route on a new GSI (for irqfd); update it when the guest reprograms. */
int vmm_irqchip_add_msi_route(struct vmm_irqchip *chip, uint64_t addr, uint32_t data,
			      uint32_t *gsi);
int vmm_irqchip_update_msi_route(struct vmm_irqchip *chip, uint32_t gsi,
				 uint64_t addr, uint32_t data);
int vmm_irqchip_irqfd(struct vmm_irqchip *chip, int eventfd, uint32_t gsi, bool assign);
/* A level-triggered irqfd on an IOAPIC GSI: KVM asserts the line when
 * eventfd fires and signals resample_fd at the guest's EOI (a passed-through
 * INTx: vfio-pci unmasks the host line on it). */
int vmm_irqchip_irqfd_resample(struct vmm_irqchip *chip, int eventfd, int resample_fd,
			       uint32_t gsi, bool assign);

/* ===== bus.c: port I/O and MMIO dispatch ================================== */
/*
 * A device is an ops table plus its own state. It is registered on a bus for
 * an address range and sees accesses as (offset into its range, bytes, size).
 * Reads of unclaimed addresses return all-ones and writes are dropped, as on
 * real hardware; they are counted so a misbehaving guest is visible.
 */
struct vmm_device_ops {
	const char *name;
	void (*read)(void *dev, uint64_t offset, uint8_t *data, uint32_t size);
	void (*write)(void *dev, uint64_t offset, const uint8_t *data, uint32_t size);
};

struct vmm_bus_range {
	uint64_t base, len;
	const struct vmm_device_ops *ops;
	void *dev;
};

struct vmm_bus {
	const char *name;       /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct vmm_bus_range *ranges; /* sorted by base, never overlapping */
	size_t nr, cap;
	atomic_ulong unclaimed;
	/* Log unclaimed accesses (rate-limited, bus.c); off for port I/O,
	 * which Linux probes for legacy devices on every boot. */
	bool log_unclaimed;
	long long unclaimed_logged_ms; /* ratelimit_pass */
	atomic_ulong unclaimed_quiet;
};

int vmm_bus_init(struct vmm_bus *bus, const char *name);
void vmm_bus_destroy(struct vmm_bus *bus);
/* -EINVAL: empty or wrapping range; -EEXIST: overlaps a registered one. */
int vmm_bus_register(struct vmm_bus *bus, uint64_t base, uint64_t len,
		     const struct vmm_device_ops *ops, void *dev);
int vmm_bus_unregister(struct vmm_bus *bus, uint64_t base, void *dev);
/* One access of 1..8 bytes. false if no device claims all of it. */
bool vmm_bus_access(struct vmm_bus *bus, uint64_t addr, uint8_t *data,
		    uint32_t size, bool is_write);

/* ===== pci.c: a PCI/PCIe function's configuration space ==================== */
#define VMM_PCI_CFG_BYTES 4096  /* PCIe extended configuration space */
#define VMM_PCI_BARS 6
#define VMM_PCI_BAR_IO 0x1
#define VMM_PCI_BAR_MEM64 0x4
#define VMM_PCI_BAR_PREFETCH 0x8

struct vmm_pci_device;

/* What a device model adds to the generic config space. All optional. */
struct vmm_pci_device_ops {
	const char *name;
	/* A BAR was mapped (enabled by the command register at addr), moved, or
	 * unmapped (mapped = false): register the device's handler there. */
	void (*bar_changed)(struct vmm_pci_device *pdev, unsigned bar,
			    uint64_t addr, bool mapped);
	/* Called after the generic model has applied a config write (after
	 * masks), e.g. to react to MSI/MSI-X capability changes. */
	void (*config_written)(struct vmm_pci_device *pdev, uint32_t offset,
			       uint32_t size);
	/* A device whose config space is partly elsewhere (a passed-through
	 * function) takes every checked access here; it serves its emulated
	 * bytes through vmm_pci_config_*_emulated. */
	uint32_t (*config_read)(struct vmm_pci_device *pdev, uint32_t offset,
				uint32_t size);
	void (*config_write)(struct vmm_pci_device *pdev, uint32_t offset,
			     uint32_t size, uint32_t value);
};

struct vmm_pci_bar {
	uint64_t size;    /* 0: not implemented; else a power of two */
	uint32_t flags;   /* VMM_PCI_BAR_* */
	uint64_t mapped_addr;
	bool mapped;
};

struct vmm_pci_device {
	uint8_t config[VMM_PCI_CFG_BYTES];
	uint8_t wmask[VMM_PCI_CFG_BYTES];   /* bits the guest may write */
	uint8_t w1cmask[VMM_PCI_CFG_BYTES]; /* write-1-to-clear status bits */
	struct vmm_pci_bar bars[VMM_PCI_BARS];
	uint8_t cap_last;                   /* last capability, 0 if none */
	uint16_t cap_free;                  /* where the next one goes */
	const struct vmm_pci_device_ops *ops;
	void *opaque;
	int slot;                           /* device number on bus 0, -1 unplugged */
	int function;                       /* 0-7 within the slot */
};

void vmm_pci_device_init(struct vmm_pci_device *pdev, uint16_t vendor,
			 uint16_t device, uint32_t class_code,
			 const struct vmm_pci_device_ops *ops, void *opaque);
/* BAR `index` of `size` bytes (power of two, >= 16; I/O >= 4). A 64-bit
 * BAR uses index and index + 1. -EINVAL on a bad size or index. */
int vmm_pci_device_set_bar(struct vmm_pci_device *pdev, unsigned index,
			   uint64_t size, uint32_t flags);
/* Appends a capability of `len` bytes (id and next pointer included) to the
 * list; returns its offset or -ENOSPC. */
int vmm_pci_device_add_capability(struct vmm_pci_device *pdev, uint8_t id,
				  uint8_t len);
/* Config accesses: size 1, 2 or 4, naturally aligned, inside 4 KiB; else
 * reads give all-ones and writes are dropped (-EINVAL). */
uint32_t vmm_pci_config_read(struct vmm_pci_device *pdev, uint32_t offset,
			     uint32_t size);
int vmm_pci_config_write(struct vmm_pci_device *pdev, uint32_t offset,
			 uint32_t size, uint32_t value);
/* The generic model alone (masks, BAR mapping, config_written), without the
 * config_read/config_write override; access already checked. */
uint32_t vmm_pci_config_read_emulated(struct vmm_pci_device *pdev, uint32_t offset,
				      uint32_t size);
void vmm_pci_config_write_emulated(struct vmm_pci_device *pdev, uint32_t offset,
				   uint32_t size, uint32_t value);

/* ===== pci_host.c: the PCIe host bridge (bus 0) ============================ */
#define VMM_PCI_SLOTS 32
#define VMM_PCI_FUNCTIONS 8

struct vmm_pci_host {
	struct vmm_pci_device bridge;         /* 00:00.0 */
	struct vmm_pci_device *slots[VMM_PCI_SLOTS][VMM_PCI_FUNCTIONS];
	pthread_mutex_t lock;                 /* config accesses, slots */
	uint32_t cf8;                         /* CONFIG_ADDRESS */
	uint64_t mmio32_next;                 /* BAR allocation cursors */
	uint64_t mmio64_next, mmio64_end;
	uint32_t io_next;
};

/* Registers ports 0xCF8-0xCFF and the ECAM window; the bridge at slot 0. */
int vmm_pci_host_init(struct vmm_pci_host *host, struct vmm_bus *pio,
		      struct vmm_bus *mmio, const struct vmm_memory_map *map);
void vmm_pci_host_destroy(struct vmm_pci_host *host);
/* Plugs a function in a free slot and gives its BARs addresses (as firmware
 * would). Returns the slot, -ENOSPC when full or the window is exhausted. */
int vmm_pci_host_add(struct vmm_pci_host *host, struct vmm_pci_device *pdev);
/* Plugs up to 8 functions into one free slot: fns[i] becomes function i
 * (NULL leaves a gap; function 0 must exist, PCI 3.0 6.2.1). Function 0's
 * header type gets the multi-function bit when any other function is there,
 * and loses it otherwise, so a guest scans exactly what is plugged (a GPU and
 * its HDMI audio function stay one device 0000:00:NN.0/.1, as the GPU driver
 * expects). Returns the slot; -EINVAL, -ENOSPC; on error nothing is plugged. */
int vmm_pci_host_add_slot(struct vmm_pci_host *host, struct vmm_pci_device *const *fns,
			  unsigned count);
/* Unplugs a function added above (config cycles to it then read all-ones);
 * the caller has already unmapped its BARs. */
void vmm_pci_host_remove(struct vmm_pci_host *host, struct vmm_pci_device *pdev);
/* The GSI that INTx pin (0 = INTA) of a slot is wired to: IOAPIC pins
 * 16-23, rotating with the slot as the swizzle of a real board does; the
 * DSDT's _PRT announces the same table (acpi.c). */
uint32_t vmm_pci_intx_gsi(unsigned slot, unsigned pin);
extern const struct vmm_device_ops vmm_pci_host_cfg_ops;   /* port 0xCF8 */
extern const struct vmm_device_ops vmm_pci_host_ecam_ops;

/* ===== uart.c: 16550A ======================================================= */
#define VMM_UART_COM1_PORT 0x3F8
#define VMM_UART_COM1_IRQ 4

struct vmm_uart;
/* Output goes to out_fd; in_fd (or -1) is read by a thread of its own. */
int vmm_uart_create(struct vmm_uart **out, struct vmm_irqchip *chip, uint32_t gsi,
		    int in_fd, int out_fd);
void vmm_uart_destroy(struct vmm_uart *uart);
/* The last complete line the guest printed (for exit reasons). */
void vmm_uart_last_line(struct vmm_uart *uart, char *buf, size_t size);
/* The last line with Linux's "Kernel panic - not syncing", from there on. */
bool vmm_uart_panic_line(struct vmm_uart *uart, char *buf, size_t size);
extern const struct vmm_device_ops vmm_uart_ops;

/* ===== power.c: ACPI hardware-reduced sleep and reset registers ========== */
#define VMM_POWER_PORT 0x600      /* sleep control, sleep status, reset */
#define VMM_POWER_PORT_LEN 3
#define VMM_POWER_SLEEP_CONTROL 0x600
#define VMM_POWER_SLEEP_STATUS 0x601
#define VMM_POWER_RESET 0x602
#define VMM_POWER_RESET_VALUE 0x1
#define VMM_POWER_S5_TYPE 5       /* SLP_TYP of \_S5 in the DSDT */

enum vmm_power_event { VMM_POWER_NONE, VMM_POWER_OFF, VMM_POWER_RESET_REQ };

struct vmm_power {
	void (*event)(void *ctx, enum vmm_power_event ev);
	void *ctx;
};
extern const struct vmm_device_ops vmm_power_ops;
/* power.c: the Generic Event Device's event register (vmm/control.h). */
struct vmm_ged {
	struct vmm_irqchip *chip;
	uint32_t gsi;
	atomic_uint events;        /* pending; the guest's read clears them */
};
/* i8042.c: ports 0x60-0x64, reset on command 0xFE; dev is a struct vmm_power. */
#define VMM_I8042_PORT 0x60
#define VMM_I8042_PORT_LEN 5
extern const struct vmm_device_ops vmm_i8042_ops;

/* ===== aml.c: a small ACPI Machine Language encoder ======================= */
struct aml_buf {
	uint8_t *data;
	size_t len, cap;
	bool overflow;
};

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);
void aml_byte(struct aml_buf *b, uint8_t v);
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_string(struct aml_buf *b, const char *s);
void aml_eisaid(struct aml_buf *b, const char *id);      /* "PNP0A08" */
/* "\\_SB_.PCI0" style paths; segments shorter than 4 are padded with '_'. */
void aml_namestring(struct aml_buf *b, const char *name);
/* Name(NAME, ...): call aml_name, then emit the value. */
void aml_name(struct aml_buf *b, const char *name);
/* Opens a length-prefixed block (Scope, Device, Package, Buffer...); returns
 * where its PkgLength goes; aml_close patches it. */
size_t aml_open(struct aml_buf *b, const uint8_t *op, size_t oplen);
void aml_close(struct aml_buf *b, size_t mark);

/* ===== acpi.c: RSDP, XSDT, FADT, MADT, DSDT, MCFG ========================== */
struct vmm_acpi_config {
	unsigned cpus;
	const struct vmm_memory_map *map;
	uint64_t base_gpa;        /* where the blob is loaded; the RSDP is first */
};

/* Builds the tables into buf; returns the bytes used or -ENOSPC. */
int vmm_acpi_build(uint8_t *buf, size_t cap, const struct vmm_acpi_config *cfg);
uint8_t vmm_acpi_checksum(const void *data, size_t len);

/* ===== vm.c and vcpu.c: the machine ======================================== */
enum vmm_console_kind { VMM_CONSOLE_STDIO, VMM_CONSOLE_PTY, VMM_CONSOLE_FILE,
		       VMM_CONSOLE_FDS /* console_fd_in/out, owned by the caller */ };

struct vmm_vm;
struct vmm_net_config;   /* net.h */
struct vmm_vm_net;       /* net.h: the VM's network interfaces */

struct vmm_config {
	const char *kernel_path;
	const char *initrd_path;   /* may be NULL */
	const char *cmdline;
	unsigned cpus;
	uint64_t memory_bytes;
	bool hugepages;
	bool hide_hypervisor;
	enum vmm_console_kind console;
	const char *console_path;  /* VMM_CONSOLE_FILE */
	const struct vmm_net_config *nets;  /* --net, in order (net.h) */
	unsigned nr_nets;
	/* Emulated virtio devices (vmm/virtio.h). */
	const struct virtio_blk_config *disks;
	unsigned nr_disks;
	bool rng;
	int console_fd_in, console_fd_out; /* VMM_CONSOLE_FDS (vmm/control.h) */
	/* Devices the caller plugs itself, as the phase before the vCPUs are
	 * created, undone with the VM; a VM rebuilt after a guest reset runs
	 * them again. cli/ wires passed-through devices here (vmm/passthrough.c
	 * links vfio/, which the core of vmm/ must not). NULL: none. */
	int (*plug_extra)(struct vmm_vm *vm, void *ctx);
	void (*unplug_extra)(struct vmm_vm *vm, void *ctx);
	void *extra_ctx;
};

/* Why a VM stopped; vmm_vm_run's outcome. */
enum vmm_stop_reason {
	VMM_STOP_NONE,
	VMM_STOP_POWEROFF,     /* guest powered off: success */
	VMM_STOP_RESET,        /* guest reset (reboot, or panic with panic=-1) */
	VMM_STOP_TRIPLE_FAULT, /* KVM_EXIT_SHUTDOWN */
	VMM_STOP_ERROR,        /* a vCPU failed (entry failure, internal error) */
	VMM_STOP_INTERRUPTED,  /* the user interrupted passvm (SIGINT/SIGTERM) */
	VMM_STOP_REQUESTED,    /* a stop request on the control socket */
};

struct vmm_vcpu_thread;
struct virtio_blk_config;
struct virtio_blk;
struct virtio_rng;

struct vmm_vm {
	struct vmm_config cfg;
	struct host_root root;
	struct kvm_system kvm;
	struct kvm_vm vm;
	struct kvm_cpuid2 *supported_cpuid;
	struct vmm_guest_memory mem;
	struct vmm_irqchip irqchip;
	struct vmm_bus pio, mmio;
	struct vmm_pci_host pci;
	struct vmm_uart *uart;
	struct virtio_blk **disks;  /* cfg.nr_disks of them */
	struct virtio_rng *rng;
	unsigned failed_disk;       /* "create virtio devices": which --disk */
	struct vmm_power power;
	struct vmm_ged ged;         /* power button (vmm/control.h) */
	struct vmm_boot_entry entry;
	struct vmm_vcpu_thread *vcpus;
	int console_in_fd, console_out_fd;
	char console_pty[64];       /* VMM_CONSOLE_PTY: the pty's path */
	int console_pty_slave_fd;   /* held open while the VM lives */
	unsigned phases_done;
	const char *failed_phase;   /* set when vmm_vm_create fails */
	const char *failed_detail;  /* e.g. the missing KVM capability */
	unsigned failed_index;      /* which --net failed, in its phase */
	struct vmm_vm_net *net;     /* net.h, vm_net.c */
	/* stop */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	enum vmm_stop_reason stop_reason;
	char stop_detail[256];
	atomic_bool stopping;       /* vCPU threads leave their loop */
	/* Set from a signal handler at the edge (lock-free, async-signal-safe);
	 * vmm_vm_run notices it within 100 ms. */
	volatile sig_atomic_t interrupt_requested;
	bool console_created;       /* VMM_CONSOLE_FILE: we created the file */
	bool termios_saved;
	struct termios saved_termios;
};

/* failed_phase when vmm_config.plug_extra failed. */
#define VMM_PHASE_EXTRA "plug the caller's devices"
/* Builds the machine phase by phase; on failure undoes what was done and
 * sets failed_phase ("open /dev/kvm", "load kernel", ...). */
int vmm_vm_create(struct vmm_vm *vm, const struct vmm_config *cfg);
/* Starts the vCPU threads and waits for the guest to stop. */
enum vmm_stop_reason vmm_vm_run(struct vmm_vm *vm);
void vmm_vm_destroy(struct vmm_vm *vm);
/* After a guest reset: tears the machine down and builds it again from cfg,
 * keeping guest RAM (the same mapping, the same pages) when its size is
 * unchanged, as a warm reset keeps a real machine's memory. -errno as
 * vmm_vm_create, with RAM freed and the VM destroyed. */
int vmm_vm_rebuild(struct vmm_vm *vm, const struct vmm_config *cfg);
/* Records the first stop reason and wakes vmm_vm_run; later ones are ignored. */
void vmm_vm_request_stop(struct vmm_vm *vm, enum vmm_stop_reason reason,
			 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *vmm_stop_reason_name(enum vmm_stop_reason reason);

/* vcpu.c */
int vmm_vcpus_create(struct vmm_vm *vm);
int vmm_vcpus_start(struct vmm_vm *vm);
void vmm_vcpus_stop(struct vmm_vm *vm);   /* kicks and joins the threads */
void vmm_vcpus_destroy(struct vmm_vm *vm);
/* vCPU i, for tests and debugging; NULL if there is none. */
struct kvm_vcpu *vmm_vm_vcpu(struct vmm_vm *vm, unsigned i);
/* Handles one KVM exit through the buses; false when the vCPU must stop
 * (the reason is recorded with vmm_vm_request_stop). */
bool vmm_vcpu_handle_exit(struct vmm_vm *vm, struct kvm_vcpu *vcpu);

#endif
