#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tcp_blob.py recv ADDR PORT BYTES | send ADDR PORT BYTES [TIMEOUT]

The host's end of the lab's bulk transfer through a guest's virtio-net:
recv listens, takes BYTES bytes from the first connection, closes, and
prints "md5=... bytes=N"; send connects (retrying until TIMEOUT seconds, the
guest may still be booting), sends BYTES random bytes, closes and prints the
same. The guest prints the md5 of what it sent or received; the test
compares them (TSO, checksum offload and mergeable RX buffers all carry
these bytes).
"""
import hashlib, os, socket, sys, time

mode, addr, port, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 600
md5 = hashlib.md5()
n = 0
if mode == "recv":
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(1)
    srv.settimeout(timeout)
    c, _ = srv.accept()
    c.settimeout(timeout)
    while n < total:
        b = c.recv(min(65536, total - n))
        if not b:
            break
        md5.update(b)
        n += len(b)
    c.close()
else:
    end = time.monotonic() + timeout
    while True:
        try:
            c = socket.create_connection((addr, port), timeout=5)
            break
        except OSError:
            if time.monotonic() > end:
                print("md5=none bytes=0 (no connection)", flush=True)
                sys.exit(1)
            time.sleep(1)
    c.settimeout(timeout)
    while n < total:
        b = os.urandom(min(65536, total - n))
        c.sendall(b)
        md5.update(b)
        n += len(b)
    c.close()
print("md5=%s bytes=%d" % (md5.hexdigest(), n), flush=True)
