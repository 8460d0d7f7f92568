// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A 16550A UART (National Semiconductor PC16550D datasheet; the register
 * behaviour Linux's drivers/tty/serial/8250 relies on): transmit is
 * instantaneous, receive has a 16-byte FIFO fed by a thread reading the
 * console's input fd, loopback mode works (8250 autoconfig tests it), and
 * the interrupt line follows IIR: raised while an enabled interrupt is
 * pending, lowered when none is, which gives the edge-triggered ISA IRQ an
 * edge for every new event.
 */
#include "vmm.h"
#include "sandbox.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI 0x01   /* receive data available */
#define IER_THRI 0x02  /* transmitter holding register empty */
#define IER_RLSI 0x04  /* receiver line status */
#define IER_MSI 0x08   /* modem status */
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ON 0xc0
#define FCR_FIFO_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

#define RX_FIFO_BYTES 16
#define LINE_BYTES 256

struct vmm_uart {
	pthread_mutex_t lock;
	pthread_cond_t rx_space;
	struct vmm_irqchip *chip;
	uint32_t gsi;
	int in_fd, out_fd, stop_fd;
	pthread_t reader;
	bool reader_started;
	uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
	bool thri_pending, irq_level;
	uint8_t rx[RX_FIFO_BYTES];
	unsigned rx_head, rx_count;
	char line[LINE_BYTES], last_line[LINE_BYTES];
	char panic_line[LINE_BYTES]; /* the last "Kernel panic" line, or "" */
	size_t line_len;
};

static uint8_t iir(const struct vmm_uart *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO_ENABLE) ? IIR_FIFO_ON : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thri_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void update_irq(struct vmm_uart *u)
{
	/* OUT2 gates the interrupt line on a PC (8250 drivers set it). */
	bool level = (iir(u) & IIR_NONE) == 0 && (u->mcr & MCR_OUT2);
	if (level == u->irq_level)
		return;
	u->irq_level = level;
	vmm_irqchip_set_line(u->chip, u->gsi, level);
}

static uint8_t modem_status(const struct vmm_uart *u)
{
	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback: the outputs come back as the inputs. */
	uint8_t m = 0;
	if (u->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void rx_push(struct vmm_uart *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO_BYTES)
		return; /* overrun: the byte is lost, as on hardware */
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO_BYTES] = c;
	u->rx_count++;
}

static void transmit(struct vmm_uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, c);
		return;
	}
	/* The console is the guest's; a full pipe or closed fd loses output
	 * rather than stopping the vCPU forever. */
	while (write(u->out_fd, &c, 1) < 0 && errno == EINTR)
		;
	if (c == '\n') {
		memcpy(u->last_line, u->line, u->line_len);
		u->last_line[u->line_len] = '\0';
		u->line_len = 0;
		/* Linux's panic() prints this line, then more (stack, kernel
		 * offset) before it resets: keep it for the exit reason. */
		const char *p = strstr(u->last_line, "Kernel panic - not syncing");
		if (p)
			snprintf(u->panic_line, sizeof(u->panic_line), "%s", p);
	} else if (c != '\r' && u->line_len < LINE_BYTES - 1) {
		u->line[u->line_len++] = (char)c;
	}
}

static uint8_t reg_read(struct vmm_uart *u, unsigned reg)
{
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!u->rx_count)
			return 0;
		uint8_t c = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % RX_FIFO_BYTES;
		u->rx_count--;
		pthread_cond_signal(&u->rx_space);
		return c;
	case IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case IIR_FCR: {
		uint8_t v = iir(u);
		/* Reading IIR while it reports THRE clears that interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			u->thri_pending = false;
		return v;
	}
	case LCR:
		return u->lcr;
	case MCR:
		return u->mcr;
	case LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case MSR:
		return modem_status(u);
	default:
		return u->scr;
	}
}

static void reg_write(struct vmm_uart *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			return;
		}
		transmit(u, v);
		u->thri_pending = true;
		break;
	case IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			return;
		}
		/* Enabling THRI with the holding register empty interrupts. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thri_pending = true;
		u->ier = v & 0x0f;
		break;
	case IIR_FCR:
		if (v & FCR_CLEAR_RX) {
			u->rx_count = 0;
			pthread_cond_signal(&u->rx_space);
		}
		u->fcr = v & 0xc9;
		break;
	case LCR:
		u->lcr = v;
		break;
	case MCR:
		u->mcr = v & 0x1f;
		break;
	case SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR, MSR: read-only */
	}
}

static void uart_read(void *dev, uint64_t off, uint8_t *data, uint32_t size)
{
	struct vmm_uart *u = dev;
	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < size; i++)
		data[i] = off + i < 8 ? reg_read(u, (unsigned)(off + i)) : 0xff;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_write(void *dev, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct vmm_uart *u = dev;
	pthread_mutex_lock(&u->lock);
	for (uint32_t i = 0; i < size; i++)
		if (off + i < 8)
			reg_write(u, (unsigned)(off + i), data[i]);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

const struct vmm_device_ops vmm_uart_ops = {
	.name = "uart-16550a", .read = uart_read, .write = uart_write,
};

static void *reader_main(void *arg)
{
	struct vmm_uart *u = arg;
	struct pollfd fds[2] = {
		{ .fd = u->in_fd, .events = POLLIN },
		{ .fd = u->stop_fd, .events = POLLIN },
	};
	prctl(PR_SET_NAME, "console-in", 0, 0, 0);
	/* A reader that cannot confine itself reads nothing more; the main
	 * thread sees vmm_sandbox_error() and stops the VM. */
	if (vmm_sandbox_enter(VMM_THREAD_CONSOLE) < 0)
		return NULL;
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (fds[0].revents & (POLLERR | POLLNVAL))
			break;
		pthread_mutex_lock(&u->lock);
		while (u->rx_count == RX_FIFO_BYTES)
			pthread_cond_wait(&u->rx_space, &u->lock);
		uint8_t buf[RX_FIFO_BYTES];
		size_t room = RX_FIFO_BYTES - u->rx_count;
		pthread_mutex_unlock(&u->lock);
		ssize_t n = read(u->in_fd, buf, room);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* end of input (a closed pipe): the guest sees none */
		pthread_mutex_lock(&u->lock);
		for (ssize_t i = 0; i < n; i++)
			rx_push(u, buf[i]);
		update_irq(u);
		pthread_mutex_unlock(&u->lock);
	}
	return NULL;
}

int vmm_uart_create(struct vmm_uart **out, struct vmm_irqchip *chip, uint32_t gsi,
		    int in_fd, int out_fd)
{
	struct vmm_uart *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->rx_space, NULL);
	u->chip = chip;
	u->gsi = gsi;
	u->in_fd = in_fd;
	u->out_fd = out_fd;
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0) {
		int r = -errno;
		vmm_uart_destroy(u);
		return r;
	}
	if (in_fd >= 0) {
		int r = -pthread_create(&u->reader, NULL, reader_main, u);
		if (r < 0) {
			vmm_uart_destroy(u);
			return r;
		}
		u->reader_started = true;
	}
	*out = u;
	return 0;
}

void vmm_uart_destroy(struct vmm_uart *u)
{
	if (!u)
		return;
	if (u->reader_started) {
		uint64_t one = 1;
		if (write(u->stop_fd, &one, sizeof(one)) < 0) {
			/* eventfd writes of 1 cannot fail short of a bug */
		}
		pthread_mutex_lock(&u->lock);
		u->rx_count = 0; /* a reader waiting for room must wake */
		pthread_cond_broadcast(&u->rx_space);
		pthread_mutex_unlock(&u->lock);
		pthread_join(u->reader, NULL);
	}
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	pthread_cond_destroy(&u->rx_space);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

void vmm_uart_last_line(struct vmm_uart *u, char *buf, size_t size)
{
	pthread_mutex_lock(&u->lock);
	const char *src = u->line_len ? NULL : u->last_line;
	if (!src) {
		u->line[u->line_len] = '\0';
		src = u->line; /* an unfinished line is the latest news */
	}
	snprintf(buf, size, "%s", src);
	pthread_mutex_unlock(&u->lock);
}

bool vmm_uart_panic_line(struct vmm_uart *u, char *buf, size_t size)
{
	pthread_mutex_lock(&u->lock);
	bool found = u->panic_line[0] != '\0';
	if (found)
		snprintf(buf, size, "%s", u->panic_line);
	pthread_mutex_unlock(&u->lock);
	return found;
}
