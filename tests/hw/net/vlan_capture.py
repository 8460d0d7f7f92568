#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vlan_capture.py IFACE SECONDS: prints one line per frame seen on IFACE,
"src=MAC vlan=VID|none type=0xETHERTYPE", for SECONDS seconds.

An AF_PACKET reader: the kernel takes a frame's 802.1Q tag out of the data
(hardware acceleration, or the bridge's own VLAN code) and hands it over in
PACKET_AUXDATA (struct tpacket_auxdata: tp_vlan_tci valid when tp_status has
TP_STATUS_VLAN_VALID), so the tag is read from there, and from the frame
itself when it is still inline. Documentation/networking/packet_mmap.rst,
include/uapi/linux/if_packet.h.
"""
import socket, struct, sys, time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4

iface, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.bind((iface, 0))
s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
s.settimeout(0.2)
end = time.monotonic() + seconds
print("capture ready", flush=True)
while time.monotonic() < end:
    try:
        data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(32))
    except socket.timeout:
        continue
    if len(data) < 14:
        continue
    vlan = None
    for level, kind, cdata in anc:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= 18:
            status, _, _, _, _, tci = struct.unpack_from("IIIHHH", cdata)
            if status & TP_STATUS_VLAN_VALID:
                vlan = tci & 0xfff
    etype = struct.unpack_from("!H", data, 12)[0]
    if vlan is None and etype == 0x8100 and len(data) >= 18:
        vlan = struct.unpack_from("!H", data, 14)[0] & 0xfff
        etype = struct.unpack_from("!H", data, 16)[0]
    src = ":".join("%02x" % b for b in data[6:12])
    print("src=%s vlan=%s type=0x%04x" % (src, "none" if vlan is None else vlan, etype),
          flush=True)
