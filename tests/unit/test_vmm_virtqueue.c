// SPDX-License-Identifier: GPL-2.0-or-later
/* vmm/virtqueue.c: the split-ring walker against well-formed and hostile
 * rings: loops, indexes out of range, buffers outside RAM or wrapping the
 * address space, nested indirect tables, readable-after-writable, queue
 * sizes 0 and not a power of two, and the event-index interrupt rule. */
#include "virtio.h"
#include "testlib.h"

#include <errno.h>

#define QSZ 8
#define DESC 0x10000ULL
#define AVAIL 0x11000ULL
#define USED 0x12000ULL
#define INDIR 0x13000ULL
#define BUF 0x20000ULL

static struct vmm_guest_memory mem;

static struct virtq_desc *desc_at(uint64_t gpa, unsigned i)
{
	return (struct virtq_desc *)vmm_gpa_to_host(&mem, gpa + 16ULL * i, 16);
}

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	*desc_at(table, i) = (struct virtq_desc){ addr, len, flags, next };
}

static uint16_t *avail(void)
{
	return vmm_gpa_to_host(&mem, AVAIL, 6 + 2 * QSZ);
}

static uint16_t next_avail;

static void offer(uint16_t head)
{
	avail()[2 + next_avail % QSZ] = head;
	next_avail++;
	avail()[1] = next_avail;
}

static void fresh(struct virtq *q, bool event_idx)
{
	memset(mem.host, 0, 0x40000);
	next_avail = 0;
	CHECK_EQ_INT(virtq_init(q, &mem, QSZ, DESC, AVAIL, USED, event_idx, true), 0);
}

static int pop_one(struct virtq *q, struct virtq_chain *c)
{
	return virtq_pop(q, c);
}

int main(void)
{
	struct vmm_memory_map map;
	CHECK_EQ_INT(vmm_memory_map_build(&map, 16ULL << 20, 40), 0);
	CHECK_EQ_INT(vmm_guest_memory_alloc(&mem, &map, false), 0);
	static struct virtq_chain c;
	struct virtq q;

	/* Queue set-up checks. */
	CHECK_EQ_INT(virtq_init(&q, &mem, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ_INT(virtq_init(&q, &mem, 6, DESC, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ_INT(virtq_init(&q, &mem, QSZ, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	CHECK_EQ_INT(virtq_init(&q, &mem, QSZ, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	CHECK_EQ_INT(virtq_init(&q, &mem, QSZ, DESC, AVAIL, USED + 2, false, false), -EINVAL);
	CHECK_EQ_INT(virtq_init(&q, &mem, QSZ, (16ULL << 20) - 64, AVAIL, USED, false, false),
		     -EINVAL);
	CHECK_EQ_INT(virtq_init(&q, &mem, QSZ, DESC, AVAIL, 0xfffffffffffffff0ULL, false, false),
		     -EINVAL);
	/* A queue that failed set-up is never walked. */
	CHECK_EQ_INT(virtq_pop(&q, &c), -EBADMSG);

	/* A good chain: 16-byte header (readable), 512 data (writable), 1 status. */
	fresh(&q, false);
	CHECK_EQ_INT(pop_one(&q, &c), 0);
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	set_desc(DESC, 2, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), 1);
	CHECK_EQ_INT(c.head, 0);
	CHECK_EQ_INT(c.n_out, 1);
	CHECK_EQ_INT(c.n_in, 2);
	CHECK_EQ_INT(c.out_bytes, 16);
	CHECK_EQ_INT(c.in_bytes, 513);
	CHECK(c.iov[1].iov_base == vmm_gpa_to_host(&mem, BUF + 0x1000, 512));
	CHECK_EQ_INT(pop_one(&q, &c), 0);
	virtq_push(&q, c.head, 513);
	uint8_t *used = vmm_gpa_to_host(&mem, USED, 4 + 8 * QSZ + 2);
	CHECK_EQ_INT(used[2], 1);                /* used->idx */
	CHECK_EQ_INT(used[4], 0);                /* id */
	CHECK_EQ_INT(used[8] | used[9] << 8, 513);
	CHECK(virtq_should_interrupt(&q));
	CHECK(!virtq_should_interrupt(&q));     /* nothing new */
	/* NO_INTERRUPT without event index. */
	avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&q, 0, 0);
	CHECK(!virtq_should_interrupt(&q));

	/* A loop: 0 -> 1 -> 0. */
	fresh(&q, false);
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	CHECK_EQ_STR(q.error, "descriptor chain loops");
	/* A self loop. */
	fresh(&q, false);
	set_desc(DESC, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 3);
	offer(3);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);

	/* Head and next indexes out of range. */
	fresh(&q, false);
	offer(QSZ);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	fresh(&q, false);
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 0xffff);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	CHECK_EQ_STR(q.error, "descriptor index out of range");
	/* avail->idx claims more than the ring holds. */
	fresh(&q, false);
	avail()[1] = QSZ + 1;
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);

	/* Buffers outside RAM, lengths that wrap, a buffer in the PCI hole. */
	uint64_t bad_addr[] = { 16ULL << 20, (16ULL << 20) - 8, 0xfffffffffffff000ULL,
				VMM_PCI_HOLE_START };
	uint32_t bad_len[] = { 1, 16, 0x2000, 4 };
	for (size_t i = 0; i < ARRAY_SIZE(bad_addr); i++) {
		fresh(&q, false);
		set_desc(DESC, 0, bad_addr[i], bad_len[i], 0, 0);
		offer(0);
		CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
		CHECK_EQ_STR(q.error, "buffer outside guest RAM");
	}
	fresh(&q, false);
	set_desc(DESC, 0, BUF, 0xffffffff, 0, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);

	/* Readable after writable. */
	fresh(&q, false);
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 16, 0, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);

	/* Indirect: a table of three. */
	fresh(&q, false);
	set_desc(INDIR, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(INDIR, 1, BUF + 0x1000, 4096, VIRTQ_DESC_F_NEXT, 2);
	set_desc(INDIR, 2, BUF + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 5, INDIR, 48, VIRTQ_DESC_F_INDIRECT, 0);
	offer(5);
	CHECK_EQ_INT(pop_one(&q, &c), 1);
	CHECK_EQ_INT(c.head, 5);
	CHECK_EQ_INT(c.n_out, 2);
	CHECK_EQ_INT(c.n_in, 1);
	CHECK_EQ_INT(c.out_bytes, 16 + 4096);
	/* ... not negotiated. */
	CHECK_EQ_INT(virtq_init(&q, &mem, QSZ, DESC, AVAIL, USED, false, false), 0);
	next_avail = 0;
	offer(5);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	/* Indirect in indirect. */
	fresh(&q, false);
	set_desc(INDIR, 0, INDIR, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(DESC, 0, INDIR, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	CHECK_EQ_STR(q.error, "indirect descriptor inside an indirect table");
	/* Indirect with NEXT, bad table length, a loop inside the table. */
	uint32_t ilen[] = { 48, 0, 17, 16 * (VIRTQ_CHAIN_MAX + 1) };
	uint16_t iflags[] = { VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_INDIRECT,
			      VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_INDIRECT };
	for (size_t i = 0; i < ARRAY_SIZE(ilen); i++) {
		fresh(&q, false);
		set_desc(DESC, 0, INDIR, ilen[i], iflags[i], 1);
		offer(0);
		CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	}
	fresh(&q, false);
	set_desc(INDIR, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(INDIR, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	set_desc(DESC, 0, INDIR, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	CHECK_EQ_STR(q.error, "descriptor chain loops");
	/* An indirect table that ends outside RAM. */
	fresh(&q, false);
	set_desc(DESC, 0, (16ULL << 20) - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), -EBADMSG);
	/* Chain length limit: VIRTQ_CHAIN_MAX + 1 buffers in one table. */
	fresh(&q, false);
	for (unsigned i = 0; i < VIRTQ_CHAIN_MAX; i++)
		set_desc(INDIR, i, BUF, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	set_desc(INDIR, VIRTQ_CHAIN_MAX - 1, BUF, 1, 0, 0);
	set_desc(DESC, 0, INDIR, 16 * VIRTQ_CHAIN_MAX, VIRTQ_DESC_F_INDIRECT, 0);
	offer(0);
	CHECK_EQ_INT(pop_one(&q, &c), 1);
	CHECK_EQ_INT(c.n_out, VIRTQ_CHAIN_MAX);

	/* Event index: interrupt only when used_event is crossed. */
	fresh(&q, true);
	uint16_t *used_event = &avail()[2 + QSZ];
	*used_event = 1;                  /* "interrupt me after the 2nd" */
	virtq_push(&q, 0, 0);
	CHECK(!virtq_should_interrupt(&q));
	virtq_push(&q, 0, 0);
	CHECK(virtq_should_interrupt(&q));
	virtq_push(&q, 0, 0);
	CHECK(!virtq_should_interrupt(&q));
	/* enable_notify publishes avail_event = last_avail and reports late
	 * arrivals. */
	set_desc(DESC, 0, BUF, 1, 0, 0);
	offer(0);
	CHECK(virtq_enable_notify(&q));
	CHECK_EQ_INT(pop_one(&q, &c), 1);
	CHECK(!virtq_enable_notify(&q));
	uint8_t *ae = vmm_gpa_to_host(&mem, USED + 4 + 8 * QSZ, 2);
	CHECK_EQ_INT(ae[0], 1);
	/* Without event index, disable/enable toggle the NO_NOTIFY flag. */
	fresh(&q, false);
	virtq_disable_notify(&q);
	CHECK_EQ_INT(used[0], VIRTQ_USED_F_NO_NOTIFY);
	CHECK(!virtq_enable_notify(&q));
	CHECK_EQ_INT(used[0], 0);

	/* 16-bit index wrap-around: 70000 chains through one slot. */
	fresh(&q, true);
	set_desc(DESC, 0, BUF, 1, 0, 0);
	for (unsigned i = 0; i < 70000; i++) {
		offer(0);
		if (pop_one(&q, &c) != 1) {
			CHECK(!"pop failed across the index wrap");
			break;
		}
		virtq_push(&q, 0, 0);
	}
	vmm_guest_memory_free(&mem);
	return test_result();
}
