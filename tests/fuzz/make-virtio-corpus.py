#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed inputs of the virtqueue and virtio_blk fuzz targets
# (tests/fuzz/corpus/{virtqueue,virtio_blk}): well-formed rings with direct,
# indirect and blk request chains, which the fuzzer then mutates.
# Usage: make-virtio-corpus.py CORPUS_DIR
import struct, sys, os

NEXT, WRITE, INDIRECT = 1, 2, 4

def ring(chains, qsize=8):
    """chains: list of lists of (addr, len, flags); extra: {gpa: bytes}."""
    mem = bytearray(0xB000)
    descs, heads, i = [], [], 0
    for ch in chains:
        heads.append(i)
        for j, (a, l, f) in enumerate(ch):
            nxt = i + 1 if j + 1 < len(ch) else 0
            if j + 1 < len(ch):
                f |= NEXT
            struct.pack_into('<QIHH', mem, 16 * i, a, l, f, nxt)
            i += 1
    struct.pack_into('<HH', mem, 0x4000, 0, len(heads))
    for k, h in enumerate(heads):
        struct.pack_into('<H', mem, 0x4004 + 2 * k, h)
    return mem

def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)

out = sys.argv[1]
vq, blk = os.path.join(out, 'virtqueue'), os.path.join(out, 'virtio_blk')
os.makedirs(vq, exist_ok=True)
os.makedirs(blk, exist_ok=True)

# virtqueue: a direct chain, an indirect table, a chain that loops.
m = ring([[(0x8000, 16, 0), (0x9000, 512, WRITE), (0xA000, 1, WRITE)]])
write(os.path.join(vq, 'direct'), bytes([3, 3]) + m)
m = ring([[(0x7000, 48, INDIRECT)]])
struct.pack_into('<QIHH', m, 0x7000, 0x8000, 16, NEXT, 1)
struct.pack_into('<QIHH', m, 0x7010, 0x9000, 512, NEXT | WRITE, 2)
struct.pack_into('<QIHH', m, 0x7020, 0xA000, 1, WRITE, 0)
write(os.path.join(vq, 'indirect'), bytes([3, 3]) + m)
m = ring([[(0x8000, 16, 0), (0x8000, 16, 0)]])
struct.pack_into('<H', m, 16 + 14, 0)   # second descriptor points back
write(os.path.join(vq, 'loop'), bytes([3, 1]) + m)

# virtio_blk: read, write, flush, get-id, discard on a 1 MiB disk.
cap = struct.pack('<Q', 1 << 20)
def blk_req(name, typ, sector, data_len, data_flags, extra=b''):
    chain = [(0x8000, 16 + len(extra), 0)]
    if data_len:
        chain.append((0x9000, data_len, data_flags))
    chain.append((0xA000, 1, WRITE))
    m = ring([chain])
    struct.pack_into('<IIQ', m, 0x8000, typ, 0, sector)
    m[0x8010:0x8010 + len(extra)] = extra
    write(os.path.join(blk, name), cap + bytes([3, 2]) + m)
blk_req('read', 0, 8, 4096, WRITE)
blk_req('write', 1, 8, 4096, 0)
blk_req('flush', 4, 0, 0, 0)
blk_req('get-id', 8, 0, 20, WRITE)
blk_req('discard', 11, 0, 0, 0, struct.pack('<QII', 16, 8, 0))
blk_req('write-zeroes', 13, 0, 0, 0, struct.pack('<QII', 16, 8, 1))
