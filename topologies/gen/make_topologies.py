#!/usr/bin/env python3
"""Writes the generated topology files of topologies/ (every file except
a6000-x4-pcie-gen4.textproto, which is written by hand).

Run from the repository root:  python3 topologies/gen/make_topologies.py
Standard library only. Edit this script, not its outputs, and commit both.
Every figure comes from ../shared/reference/hardware.md unless its comment
says "datasheet (NVIDIA), not in hardware.md" or "assumption".
"""
import argparse
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# ---- figures (per direction, GB/s = 1e9 B/s; latency in us) ---------------
PCIE4 = (24.0, 1.0, "hardware.md: NCCL rates PCIe Gen4 x16 at 24 GB/s (raw 31.5 GB/s); "
         "NCCL PCIe hop latency 1.0 us (LL)")
PCIE5 = (48.0, 1.0, "assumption: PCIe Gen5 x16 = 2 x Gen4 (hardware.md: NCCL 24 GB/s for Gen4 x16, "
         "raw 31.5), so 48 GB/s; NCCL PCIe hop latency 1.0 us (LL)")
NVBRIDGE = (48.0, 0.6, "hardware.md: A6000 NVLink bridge 4 links; NCCL models 12 GB/s per link "
            "for sm_86 (4 x 12 = 48; line rate 4 x 14.0625 = 56.25 GB/s); NCCL NVLink hop 0.6 us (LL)")
UPI = (10.0, 1.0, "hardware.md: NCCL assumes 10 GB/s for an Intel Skylake-class CPU interconnect; "
       "latency assumption: one PCIe hop (1.0 us LL), NCCL's model has no socket-link latency")
HOSTBRIDGE = (126.0, 0.0, "assumption: on-die host bridge sized to 4 x 31.5 GB/s raw Gen4 x16 ports")
NVSW_A100 = (230.0, 0.3, "hardware.md: A100 NVLink ~230 GB/s effective (12 links x ~20 GB/s); "
             "NCCL NVLink hop 0.6 us (LL) split over GPU-NVSwitch-GPU, 0.3 us per link")
NVSW_H100 = (370.0, 0.3, "hardware.md: H100 NVLink ~370 GB/s effective busbw (450 GB/s line rate); "
             "NCCL NVLink hop 0.6 us (LL) split over GPU-NVSwitch-GPU, 0.3 us per link")
NET_LAT = "NCCL network hop 2.7 us (LL) split over NIC-switch-NIC, 1.35 us per link"
ETH100 = (12.5, 1.35, "hardware.md: 100 Gb/s = 12.5 GB/s line rate; " + NET_LAT)
ETH200 = (25.0, 1.35, "hardware.md: 200 Gb/s = 25 GB/s line rate; " + NET_LAT)
CX7 = (48.0, 1.35, "hardware.md: ConnectX-7 NDR 400 Gb/s NIC achieves 48-49 GB/s (nccl-tests "
       "issue 267), 48 taken; " + NET_LAT)

HOST_MEMORY = 128.0
CPU_NOTE = ("# assumption: an Intel Skylake-class socket (as the socket link), 6 x DDR4-2666\n"
            "# = 128 GB/s datasheet host memory; Intel makes NCCL use SHM unless a PCIe\n"
            "# switch joins the GPUs (hardware.md).")

A6000 = """gpu {
  name: "NVIDIA RTX A6000"
  # datasheet: dense BF16/FP16 tensor peak = 84 SMs x 4 tensor cores x
  # 256 FLOP/clk x 1.8 GHz = 154.8 TFLOP/s (hardware.md).
  peak_flops: 154.8e12
  # datasheet: 384-bit GDDR6, 768 GB/s (hardware.md).
  mem_bw_gb_per_s: 768
  # Efficiencies and launch cost: assumptions, as in a6000-x4-pcie-gen4.
  compute_efficiency: 0.6
  memory_efficiency: 0.8
  launch_us: 5
  # datasheet: 48 GB GDDR6.
  memory_gb: 48
  # SMs an all-to-all holds while overlapping compute: 2 of 84 (0.024).
  # NCCL runs one SM per channel and the PCIe nccl-tests logs of
  # ../shared/measurements (rtx5090-x4-pcie-shm-allreduce.txt) show 2
  # channels; an assumption for all-to-all on this card.
  comm_sm_share: 0.024
}
"""
A100 = """gpu {
  name: "NVIDIA A100 SXM4 80GB"
  # datasheet (NVIDIA), not in hardware.md: 312 TFLOP/s dense BF16 tensor.
  peak_flops: 312e12
  # datasheet (NVIDIA), not in hardware.md: 2039 GB/s HBM2e (80 GB variant).
  mem_bw_gb_per_s: 2039
  # Assumptions, as in a6000-x4-pcie-gen4: compute 0.6 (hardware.md: A100
  # cuBLASLt FP16 GEMMs reach 119-254 of 312 TFLOP/s, 38-81%), memory 0.8,
  # launch 5 us.
  compute_efficiency: 0.6
  memory_efficiency: 0.8
  launch_us: 5
  # datasheet (NVIDIA), not in hardware.md: 80 GB HBM2e.
  memory_gb: 80
  # SMs an all-to-all holds while overlapping compute: assumption, the
  # H100 files' share (20 of 132 SMs, DeepSeek-V3's report), 0.15.
  comm_sm_share: 0.15
}
"""
H100 = """gpu {
  name: "NVIDIA H100 SXM5 80GB"
  # datasheet (NVIDIA), not in hardware.md: 989 TFLOP/s dense BF16 tensor.
  peak_flops: 989e12
  # datasheet (NVIDIA), not in hardware.md: 3350 GB/s HBM3.
  mem_bw_gb_per_s: 3350
  # Assumptions, as in a6000-x4-pcie-gen4: compute 0.6, memory 0.8,
  # launch 5 us.
  compute_efficiency: 0.6
  memory_efficiency: 0.8
  launch_us: 5
  # datasheet (NVIDIA), not in hardware.md: 80 GB HBM3.
  memory_gb: 80
  # SMs an all-to-all holds while overlapping compute: 20 of 132 (0.15),
  # what DeepSeek-V3's report (arXiv 2412.19437) gives its all-to-all
  # kernels on H800; not in ../shared, an assumption for NCCL here.
  comm_sm_share: 0.15
}
"""


class Topo:
    def __init__(self):
        self.nodes, self.links = [], []

    def node(self, name, kind, host=0):
        extra = ""
        if kind == "CPU":
            self.nodes.append(CPU_NOTE)
            extra = " cpu_vendor: INTEL memory_gb_per_s: %g" % HOST_MEMORY
        self.nodes.append('nodes { name: "%s" kind: %s host: %d%s }' % (name, kind, host, extra))

    def link(self, a, b, kind, fig, name=None, bw=None, source=None):
        bw_v, lat, src = fig
        self.links.append(
            'links { name: "%s" a: "%s" b: "%s" kind: %s bw_gb_per_s: %g latency_us: %g '
            'duplex: FULL\n  source: "%s" }'
            % (name or "%s-%s" % (a, b), a, b, kind, bw if bw is not None else bw_v, lat,
               source or src))

    def write(self, fname, name, description, header, gpu):
        text = ["# proto-file: sim/proto/topology.proto",
                "# proto-message: epsim.proto.Topology",
                "#",
                "# GENERATED by topologies/gen/make_topologies.py (python3, stdlib only):",
                "# edit the generator and rerun it, do not edit this file.",
                "#"]
        text += [("# " + l).rstrip() for l in header.strip("\n").split("\n")]
        text += ["#",
                 "# Sources: ../shared/reference/hardware.md for every link figure (each",
                 "# link's `source` says which row); values marked \"datasheet\" are",
                 "# ceilings, \"assumption\" says why. Latency convention: NCCL's per-hop",
                 "# latency for the LL protocol (hardware.md). No `nccl` block: the",
                 "# NCCL model's defaults apply (protocols, peers in flight, P2P rule;",
                 "# `epsim topo show` prints them).",
                 "",
                 'name: "%s"' % name,
                 'description: "%s"' % description,
                 "",
                 gpu]
        text += self.nodes + [""] + self.links
        with open(os.path.join(OUT, fname), "w") as f:
            f.write("\n".join(text) + "\n")


def socket(t, s, gpus, host=0, prefix=""):
    """One CPU socket with its root complex and GPUs on root ports."""
    cpu, rc = "%scpu%d" % (prefix, s), "%src%d" % (prefix, s)
    t.node(cpu, "CPU", host)
    t.node(rc, "ROOT_COMPLEX", host)
    t.link(rc, cpu, "MEMORY", HOSTBRIDGE)
    for g in gpus:
        t.node("%sgpu%d" % (prefix, g), "GPU", host)
        t.link("%sgpu%d" % (prefix, g), rc, "PCIE", PCIE4)


def two_socket_box(t, host=0, prefix=""):
    socket(t, 0, range(4), host, prefix)
    socket(t, 1, range(4, 8), host, prefix)
    t.link(prefix + "cpu0", prefix + "cpu1", "CPU_INTERCONNECT", UPI)


def a6000_x4_switch():
    t = Topo()
    t.node("cpu0", "CPU")
    t.node("rc0", "ROOT_COMPLEX")
    t.node("pcisw0", "PCIE_SWITCH")
    t.link("rc0", "cpu0", "MEMORY", HOSTBRIDGE)
    t.link("pcisw0", "rc0", "PCIE", PCIE4)
    for g in range(4):
        t.node("gpu%d" % g, "GPU")
        t.link("gpu%d" % g, "pcisw0", "PCIE", PCIE4)
    t.write("a6000-x4-pcie-switch.textproto", "a6000-x4-pcie-switch",
            "4 x RTX A6000 behind one PCIe Gen4 switch, one socket, no NVLink", """
4 x NVIDIA RTX A6000 behind one PCIe Gen4 switch on one CPU socket: GPU
peer-to-peer stays inside the switch (NCCL path type PXB, which NCCL uses
for P2P on Intel hosts too; hardware.md).

        cpu0 --- rc0            host bridge (assumption, MEMORY link)
                  |  pcisw0-rc0  Gen4 x16 uplink, 24 GB/s, 1 us
               pcisw0           PCIe switch
             +--+-+-+--+        Gen4 x16 links, 24 GB/s, 1 us each
           gpu0 gpu1 gpu2 gpu3

GPU-to-GPU route: gpuX - pcisw0 - gpuY (two PCIe links). The single x16
uplink to the CPU is shared by all GPUs for host traffic only.""", A6000)


def a6000_x8_two_socket():
    t = Topo()
    two_socket_box(t)
    t.write("a6000-x8-2socket.textproto", "a6000-x8-2socket",
            "8 x RTX A6000, 4 per socket on CPU root ports, Skylake-class socket link, no NVLink", """
8 x NVIDIA RTX A6000 on two CPU sockets, 4 GPUs on root ports of each,
sockets joined by an Intel Skylake-class UPI link (NCCL assumes 10 GB/s).

   gpu0 gpu1 gpu2 gpu3             gpu4 gpu5 gpu6 gpu7
     +----+--+--+---+               +----+--+--+---+     Gen4 x16, 24 GB/s, 1 us
              rc0                            rc1         root complexes
               |  host bridge                 |          (assumption)
              cpu0 ======== UPI ========== cpu1          10 GB/s, 1 us

Same-socket route: gpuX - rcS - gpuY (2 links). Cross-socket route:
gpuX - rc0 - cpu0 - cpu1 - rc1 - gpuY (5 links, bottleneck 10 GB/s). As in
a6000-x4-pcie-gen4 this models direct P2P; NCCL on Intel would use SHM
across sockets (hardware.md).""", A6000)


def a6000_x8_nvlink_pairs():
    t = Topo()
    two_socket_box(t)
    for g in range(0, 8, 2):
        t.link("gpu%d" % g, "gpu%d" % (g + 1), "NVLINK", NVBRIDGE)
    t.write("a6000-x8-nvlink-pairs.textproto", "a6000-x8-nvlink-pairs",
            "8 x RTX A6000 on two sockets, NVLink bridges joining GPU pairs (0-1, 2-3, 4-5, 6-7)",
            """
8 x NVIDIA RTX A6000 as in a6000-x8-2socket, plus an NVLink bridge joining
each pair of neighbouring GPUs (the A6000 bridges pairs only; hardware.md).

   gpu0=gpu1 gpu2=gpu3             gpu4=gpu5 gpu6=gpu7   = NVLink bridge,
     +----+--+--+---+               +----+--+--+---+       48 GB/s, 0.6 us
              rc0                            rc1         Gen4 x16, 24 GB/s, 1 us
               |                              |
              cpu0 ======== UPI ========== cpu1          10 GB/s, 1 us

Routes: bridged pair gpu0 - gpu1 (1 NVLink); same socket otherwise
gpuX - rcS - gpuY (2 PCIe links); cross-socket through cpu0 - cpu1.""", A6000)


def a6000_two_nodes(gbit, fig):
    t = Topo()
    for h in range(2):
        p = "n%d-" % h
        two_socket_box(t, h, p)
        t.node(p + "nic0", "NIC", h)
        t.link(p + "nic0", p + "rc0", "PCIE", PCIE4)
    t.node("netsw0", "NETWORK_SWITCH")
    for h in range(2):
        t.link("n%d-nic0" % h, "netsw0", "NETWORK", fig)
    name = "a6000-2node-x8-%dg" % gbit
    t.write(name + ".textproto", name,
            "2 nodes x 8 RTX A6000 (2 sockets each), one %d Gb/s NIC per node, one switch: "
            "16-way expert parallelism" % gbit, """
2 machines, each an a6000-x8-2socket box (GPUs n<h>-gpu0..7, host = h),
with one %d Gb/s NIC on socket 0's root complex, both NICs on one switch.
Ranks 0-7 are node 0, ranks 8-15 node 1.

  node 0: gpus 0-3 - n0-rc0 - n0-cpu0 = n0-cpu1 - n0-rc1 - gpus 4-7
                       |
                     n0-nic0  (PCIe Gen4 x16, 24 GB/s, 1 us)
                       |      %g GB/s line rate, 1.35 us
                     netsw0
                       |      %g GB/s line rate, 1.35 us
                     n1-nic0
                       |
  node 1: gpus 0-3 - n1-rc0 - n1-cpu0 = n1-cpu1 - n1-rc1 - gpus 4-7

Inter-node routes cross the NIC of each node (bottleneck %g GB/s, shared
by all 8 GPUs of a node); socket-1 GPUs also cross their node's UPI link.
The network is one switch, so no oversubscription.""" % (gbit, fig[0], fig[0], fig[0]), A6000)


def dgx(name, gpu, nvsw, desc, header):
    t = Topo()
    t.node("nvsw", "NVSWITCH")
    for g in range(8):
        t.node("gpu%d" % g, "GPU")
        t.link("gpu%d" % g, "nvsw", "NVLINK", nvsw)
    t.write(name + ".textproto", name, desc, header, gpu)


DGX_NOTE = """
The NVSwitch chips are modelled as one NVSWITCH node; each GPU has one link
to it carrying the GPU's aggregate NVLink bandwidth (effective, not line
rate). Host side (CPUs, PCIe switches, NICs) omitted: no GPU-to-GPU route
uses it, and in the engine's hop-count routing a pair of GPUs sharing a
PCIe switch would tie with the NVSwitch route."""


def dgx_a100():
    dgx("dgx-a100", A100, NVSW_A100,
        "DGX A100: 8 x A100 SXM4 80GB on NVSwitch (230 GB/s effective per GPU)", """
NVIDIA DGX A100: 8 x A100 SXM4 80GB, all-to-all over NVSwitch.

      gpu0  gpu1  gpu2  gpu3  gpu4  gpu5  gpu6  gpu7
        |     |     |     |     |     |     |     |   230 GB/s each, 0.3 us
        +-----+-----+-----+--+--+-----+-----+-----+
                           nvsw   (6 NVSwitch chips as one node)

Every GPU-to-GPU route: gpuX - nvsw - gpuY.""" + DGX_NOTE)


def dgx_h100():
    dgx("dgx-h100", H100, NVSW_H100,
        "DGX H100: 8 x H100 SXM5 80GB on NVSwitch (370 GB/s effective per GPU)", """
NVIDIA DGX H100: 8 x H100 SXM5 80GB, all-to-all over NVSwitch.

      gpu0  gpu1  gpu2  gpu3  gpu4  gpu5  gpu6  gpu7
        |     |     |     |     |     |     |     |   370 GB/s each, 0.3 us
        +-----+-----+-----+--+--+-----+-----+-----+
                           nvsw   (4 NVSwitch chips as one node)

Every GPU-to-GPU route: gpuX - nvsw - gpuY.""" + DGX_NOTE)


def h100_cluster(n):
    spines = {8: 2, 32: 4}.get(n, 0)
    t = Topo()
    for h in range(n):
        p = "n%d-" % h
        t.node(p + "nvsw", "NVSWITCH", h)
        for g in range(8):
            t.node(p + "gpu%d" % g, "GPU", h)
            t.node(p + "pcisw%d" % g, "PCIE_SWITCH", h)
            t.node(p + "nic%d" % g, "NIC", h)
            t.link(p + "gpu%d" % g, p + "nvsw", "NVLINK", NVSW_H100)
            t.link(p + "gpu%d" % g, p + "pcisw%d" % g, "PCIE", PCIE5)
            t.link(p + "nic%d" % g, p + "pcisw%d" % g, "PCIE", PCIE5)
    for r in range(8):
        t.node("leaf%d" % r, "NETWORK_SWITCH")
        for h in range(n):
            t.link("n%d-nic%d" % (h, r), "leaf%d" % r, "NETWORK", CX7)
    up = ""
    for s in range(spines):
        t.node("spine%d" % s, "NETWORK_SWITCH")
        ports = n // spines
        for r in range(8):
            t.link("leaf%d" % r, "spine%d" % s, "NETWORK", CX7, bw=ports * CX7[0],
                   source="assumption: %d x 400 Gb/s leaf-spine ports merged into one link of "
                   "%d x 48 GB/s (hardware.md: ConnectX-7 48-49 GB/s per 400 Gb/s); "
                   "%d uplinks per leaf for %d downlinks: 1:1, no oversubscription; "
                   "%s" % (ports, ports, ports * spines, n, NET_LAT))
    name = "h100-cluster-%dnode" % n
    if spines:
        fabric = """
Spine layer: %d spines; each leaf has one link per spine merging %d x
400 Gb/s ports (%g GB/s), so %d uplinks for %d downlinks: 1:1, no
oversubscription.

      spine0 ... spine%d
        |  \\   /  |       every leaf to every spine, %g GB/s each
      leaf0 ... leaf7""" % (spines, n // spines, n // spines * 48.0, n, n, spines - 1,
                             n // spines * 48.0)
    else:
        fabric = """
No spine: %d nodes fit on one leaf switch per rail, so a GPU reaches
another rail only through NVSwitch (PXN-style) on one of the two nodes.""" % n
    t.write(name + ".textproto", name,
            "%d x DGX H100 (%d GPUs), one 400 Gb/s ConnectX-7 NIC per GPU, rail-optimised "
            "fat tree%s" % (n, 8 * n, " with %d spines" % spines if spines else ""), """
%d nodes x 8 H100 SXM5 (DGX H100-style, host = node index); GPU k of
every node is on rail k: its NIC (ConnectX-7, 400 Gb/s) sits on the GPU's
PCIe Gen5 switch and links to leaf switch k. Ranks 8h..8h+7 are node h.

  node h:   n<h>-gpu0 ... n<h>-gpu7 --- n<h>-nvsw  (370 GB/s, 0.3 us each)
               |             |          PCIe Gen5 x16, 48 GB/s (assumption), 1 us
            n<h>-pcisw0   n<h>-pcisw7   PCIe switch per GPU
               |             |          PCIe Gen5 x16, 48 GB/s, 1 us
            n<h>-nic0     n<h>-nic7     ConnectX-7, one NIC per GPU
               |             |          400 Gb/s: 48 GB/s, 1.35 us
             leaf0   ...   leaf7        one leaf per rail
%s

Same-rail route: gpu - pcisw - nic - leaf - nic - pcisw - gpu (6 links).
Cross-rail routes across nodes: as NCCL's PXN, over NVSwitch to the source
node's GPU on the destination's rail, then that rail (the engine leaves a
host through the NIC nearest the destination's NIC); `epsim topo show`
prints the route the engine uses. CPUs and host memory omitted: no
GPU-to-GPU route uses them (NET pairs use GPUDirect RDMA).""" % (n, fabric), H100)


def main(argv):
    argparse.ArgumentParser(
        description="Writes the generated topology files of topologies/ (all but "
                    "a6000-x4-pcie-gen4.textproto), overwriting them.",
        epilog="Standard library only. Edit this script, not its outputs, and commit both."
    ).parse_args(argv)
    a6000_x4_switch()
    a6000_x8_two_socket()
    a6000_x8_nvlink_pairs()
    a6000_two_nodes(100, ETH100)
    a6000_two_nodes(200, ETH200)
    dgx_a100()
    dgx_h100()
    for n in (2, 4, 8, 32):
        h100_cluster(n)


if __name__ == "__main__":
    main(sys.argv[1:])
