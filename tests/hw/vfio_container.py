#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The VFIO container steps a VMM takes for one IOMMU group, through the
legacy container/group API (Documentation/driver-api/vfio.rst, "VFIO Usage
Example"): open /dev/vfio/vfio, check the API version and Type1v2, open the
group, check it is viable, attach it to the container, VFIO_SET_IOMMU.

usage: vfio_container.py GROUP EXPECT   (EXPECT: ok, or an errno name such as
EPERM for VFIO_SET_IOMMU). Exit 0 when the outcome is the expected one."""
import errno, fcntl, os, struct, sys

# include/uapi/linux/vfio.h: _IO(VFIO_TYPE ';', VFIO_BASE 100 + n)
VFIO_GET_API_VERSION = 0x3B64
VFIO_CHECK_EXTENSION = 0x3B65
VFIO_SET_IOMMU = 0x3B66
VFIO_GROUP_GET_STATUS = 0x3B67
VFIO_GROUP_SET_CONTAINER = 0x3B68
VFIO_TYPE1v2_IOMMU = 3
VFIO_GROUP_FLAGS_VIABLE = 1


def main():
    group, expect = sys.argv[1], sys.argv[2]
    container = os.open("/dev/vfio/vfio", os.O_RDWR)
    version = fcntl.ioctl(container, VFIO_GET_API_VERSION)
    print(f"VFIO API version {version}")
    if not fcntl.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU):
        print("no Type1v2 IOMMU support")
        return 1
    fd = os.open(f"/dev/vfio/{group}", os.O_RDWR)
    status = bytearray(struct.pack("II", 8, 0))
    fcntl.ioctl(fd, VFIO_GROUP_GET_STATUS, status)
    flags = struct.unpack("II", status)[1]
    print(f"group {group} viable: {'yes' if flags & VFIO_GROUP_FLAGS_VIABLE else 'no'}")
    if not flags & VFIO_GROUP_FLAGS_VIABLE:
        return 1
    fcntl.ioctl(fd, VFIO_GROUP_SET_CONTAINER, struct.pack("i", container))
    try:
        fcntl.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)
        got = "ok"
    except OSError as e:
        got = errno.errorcode.get(e.errno, str(e.errno))
    print(f"VFIO_SET_IOMMU(Type1v2): {got}")
    return 0 if got == expect else 1


if __name__ == "__main__":
    sys.exit(main())
