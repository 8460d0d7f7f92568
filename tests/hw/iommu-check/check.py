#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks what tests/hw/iommu-check/run brought back from the lab."""
import base64
import json
import os
import re
import sys

topo, path, capture = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8", errors="replace").read()
sections = {}
current = None
for line in text.splitlines():
    m = re.match(r"^@@(\w+)(?: (.*))?$", line)
    if m:
        current = m.group(1)
        sections.setdefault(current, [])
        if m.group(2) is not None:
            sections[current].append(m.group(2))
        continue
    if current:
        sections[current].append(line)

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


for key in ("rc", "snapshot", "nobody_rc", "sysgroups", "nobody", "json", "text", "end"):
    if key not in sections:
        print(text[-3000:])
        sys.exit("missing section @@%s in the lab's output" % key)

report = json.loads("\n".join(sections["json"]))
rc = int(sections["rc"][0])
checks = {c["id"]: c for c in report["checks"]}
devices = {d["bdf"]: d for d in report["devices"]}

# 1. Groups equal the kernel's.
sysgroups = {}
for p in sections["sysgroups"]:
    m = re.match(r"/sys/kernel/iommu_groups/(\d+)/devices/(\S+)$", p)
    if m:
        sysgroups.setdefault(int(m.group(1)), []).append(m.group(2))
ours = {g["id"]: [d["bdf"] for d in g["devices"]] for g in report["groups"]}
check(ours == {k: sorted(v) for k, v in sysgroups.items()},
      "%s: groups equal /sys/kernel/iommu_groups (%d groups)" % (topo, len(sysgroups)))

# 2. As nobody: nothing that needs root becomes a fail; same groups, verdict.
nobody = json.loads("\n".join(sections["nobody"]))
nchecks = {c["id"]: c for c in nobody["checks"]}
bad = [c["id"] for c in nobody["checks"] if c["status"] == "fail" and
       checks[c["id"]]["status"] != "fail"]
check(not bad, "%s: as nobody, no check fails that passes as root (%s)" % (topo, bad))
check(nobody["groups"] == report["groups"], "%s: as nobody, the same groups" % topo)
check(nobody["ready"] == report["ready"] and
      int(sections["nobody_rc"][0]) == rc, "%s: as nobody, the same verdict" % topo)
if report["groups"]:
    unknown = [d["bdf"] for d in nobody["devices"] if d["msi"] is not None and
               d["config_readable"] < 256]
    check(not unknown, "%s: as nobody, capabilities from 64 bytes are unknown" % topo)

# 3. Snapshot then --root: the same JSON.
check(sections["snapshot"][0] == "same", "%s: --snapshot then --root gives the same JSON" % topo)
check(report["ready"] == (rc == 0), "%s: exit status %d matches ready=%s" % (topo, rc, report["ready"]))


def ich9_group():
    g = [d for d in report["devices"] if d["bdf"] in
         ("0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3")]
    check(len(g) == 3 and len({d["group"] for d in g}) == 1 and g[0]["group"] is not None,
          "%s: ICH9 00:1f.0/.2/.3 are one group" % topo)
    sata = devices.get("0000:00:1f.2", {})
    check(sata.get("must_go_along") == ["0000:00:1f.0", "0000:00:1f.3"],
          "%s: 00:1f.2 must_go_along is 00:1f.0 and 00:1f.3 (%s)" % (topo, sata.get("must_go_along")))


if topo == "intel":
    ich9_group()
    nic = devices.get("0000:00:02.0", {})
    check(nic.get("verdict") == "ok" and nic.get("driver") == "e1000e",
          "intel: the e1000e (00:02.0) is ok (%s: %s)" % (nic.get("verdict"), nic.get("reasons")))
    check(report["ready"] and rc == 0, "intel: ready, exit 0")
    check(checks["interrupt_remapping"]["status"] == "pass", "intel: interrupt remapping passes")
    check(checks["iommu_firmware"]["status"] == "pass" and
          "DMAR" in checks["iommu_firmware"]["summary"],
          "intel: the IOMMU is Intel's (DMAR) although the CPU is AMD")
elif topo == "intel-nointremap":
    ir = checks["interrupt_remapping"]
    check(ir["status"] == "fail" and not report["ready"] and rc == 1,
          "intel-nointremap: interrupt_remapping fails, not ready, exit 1 (%s)" % ir["summary"])
elif topo == "noiommu":
    en = checks["iommu_enabled"]
    check(not report["ready"] and rc == 1, "noiommu: not ready, exit 1")
    check(en["status"] == "fail" and "kernel command line" in (en["fix"] or ""),
          "noiommu: iommu_enabled fails with a fix naming the kernel command line (%s)" % en["fix"])
    check(report["groups"] == [], "noiommu: no groups")
elif topo == "bridges":
    e1000 = [d for d in report["devices"] if d["driver"] == "e1000"]
    check(len(e1000) == 2 and e1000[0]["group"] == e1000[1]["group"],
          "bridges: the two e1000 behind the PCIe-to-PCI bridge share a group")
    if len(e1000) == 2:
        check(e1000[0]["must_go_along"] == [e1000[1]["bdf"]],
              "bridges: must_go_along names the other e1000, not the bridge (%s)"
              % e1000[0]["must_go_along"])
    nic = [d for d in report["devices"] if d["driver"] == "e1000e"]
    check(len(nic) == 1 and nic[0]["must_go_along"] == [] and
          any(h["role"] == "root port" and h["isolates"] for h in nic[0]["acs_path"]),
          "bridges: the e1000e behind a root port with ACS is alone")
elif topo == "amd":
    check(checks["iommu_firmware"]["status"] == "pass" and
          "IVRS" in checks["iommu_firmware"]["summary"], "amd: the IOMMU is AMD's (IVRS)")

if capture:
    os.makedirs(capture, exist_ok=True)
    with open(os.path.join(capture, topo + ".tar"), "wb") as f:
        f.write(base64.b64decode("".join(sections["tar"])))
    with open(os.path.join(capture, topo + ".txt"), "w") as f:
        f.write("\n".join(sections["text"]) + "\n")
    with open(os.path.join(capture, topo + ".json"), "w") as f:
        f.write("\n".join(sections["json"]) + "\n")
    print("captured %s/%s.tar" % (capture, topo))

sys.exit(1 if failures else 0)
