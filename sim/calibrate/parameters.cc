#include "sim/calibrate/parameters.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::calibrate {
namespace {

// NcclModel with every protocol written out, so a protocol's fields can be set.
void MaterializeNccl(proto::Topology* topo) {
  if (topo->nccl().protocols_size() > 0) return;
  const proto::NcclModel effective = topology::EffectiveNccl(*topo);
  *topo->mutable_nccl()->mutable_protocols() = effective.protocols();
}

const proto::NcclProtocol* ProtocolOf(const proto::Topology& topo, const std::string& name,
                                      proto::NcclModel* scratch) {
  *scratch = topology::EffectiveNccl(topo);
  for (const proto::NcclProtocol& p : scratch->protocols())
    if (p.name() == name) return &p;
  return nullptr;
}

proto::NcclProtocol* MutableProtocol(proto::Topology* topo, const std::string& name) {
  MaterializeNccl(topo);
  for (proto::NcclProtocol& p : *topo->mutable_nccl()->mutable_protocols())
    if (p.name() == name) return &p;
  return nullptr;
}

using ProtoGetter = double (proto::NcclProtocol::*)() const;
using ProtoSetter = void (proto::NcclProtocol::*)(double);

void AddProtocolParameter(std::vector<Parameter>* out, const std::string& proto_name,
                          const char* field, const char* unit, const char* meaning, double lower,
                          double upper, double scale, ProtoGetter getter, ProtoSetter setter) {
  Parameter p;
  p.name = fmt::format("nccl.{}.{}", proto_name, field);
  p.unit = unit;
  p.meaning = fmt::format("{} ({})", meaning, proto_name);
  p.lower = lower;
  p.upper = upper;
  p.scale = scale;
  p.get = [proto_name, getter](const proto::Topology& t) {
    proto::NcclModel scratch;
    const proto::NcclProtocol* p = ProtocolOf(t, proto_name, &scratch);
    return p == nullptr ? 0.0 : (p->*getter)();
  };
  p.set = [proto_name, setter](proto::Topology* t, double v) {
    if (proto::NcclProtocol* p = MutableProtocol(t, proto_name)) (p->*setter)(v);
  };
  out->push_back(std::move(p));
}

Parameter GpuParameter(const char* name, const char* unit, const char* meaning, double lower,
                       double upper, double scale, double (proto::GpuSpec::*getter)() const,
                       void (proto::GpuSpec::*setter)(double)) {
  Parameter p;
  p.name = std::string("gpu.") + name;
  p.unit = unit;
  p.meaning = meaning;
  p.lower = lower;
  p.upper = upper;
  p.scale = scale;
  p.get = [getter](const proto::Topology& t) { return (t.gpu().*getter)(); };
  p.set = [setter](proto::Topology* t, double v) { (t->mutable_gpu()->*setter)(v); };
  return p;
}

// Reads the field of the first link of `kind` and writes it on every one.
void EveryLinkOfKind(Parameter* p, proto::LinkKind kind, double (proto::Link::*getter)() const,
                     void (proto::Link::*setter)(double)) {
  p->get = [kind, getter](const proto::Topology& t) {
    for (const proto::Link& l : t.links())
      if (l.kind() == kind) return (l.*getter)();
    return 0.0;
  };
  p->set = [kind, setter](proto::Topology* t, double v) {
    for (proto::Link& l : *t->mutable_links())
      if (l.kind() == kind) (l.*setter)(v);
  };
}

void AddLinkParameters(const proto::Topology& topo, std::vector<Parameter>* out) {
  std::set<int> kinds;
  for (const proto::Link& l : topo.links()) kinds.insert(l.kind());
  for (int kind_number : kinds) {
    const auto kind = static_cast<proto::LinkKind>(kind_number);
    const std::string kind_name = proto::LinkKind_Name(kind);
    std::vector<double> stock;
    for (const proto::Link& l : topo.links())
      if (l.kind() == kind) stock.push_back(l.bw_gb_per_s());
    const bool uniform = std::all_of(stock.begin(), stock.end(),
                                     [&](double bw) { return bw == stock.front(); });
    Parameter bw;
    if (uniform) {
      bw.name = fmt::format("links.{}.bw_gb_per_s", kind_name);
      bw.unit = "GB/s";
      bw.meaning = fmt::format("bandwidth of every {} link, per direction", kind_name);
      bw.lower = stock.front() * 0.01;
      bw.upper = stock.front() * 100;
      bw.scale = stock.front();
      EveryLinkOfKind(&bw, kind, &proto::Link::bw_gb_per_s, &proto::Link::set_bw_gb_per_s);
    } else {
      bw.name = fmt::format("links.{}.bw_scale", kind_name);
      bw.unit = "";
      bw.meaning = fmt::format("factor on each {} link's bandwidth in the stock file", kind_name);
      bw.lower = 0.01;
      bw.upper = 100;
      bw.scale = 1;
      bw.get = [kind, stock](const proto::Topology& t) {
        for (const proto::Link& l : t.links())
          if (l.kind() == kind) return l.bw_gb_per_s() / stock.front();
        return 1.0;
      };
      bw.set = [kind, stock](proto::Topology* t, double v) {
        size_t i = 0;
        for (proto::Link& l : *t->mutable_links())
          if (l.kind() == kind) l.set_bw_gb_per_s(stock[i++] * v);
      };
    }
    out->push_back(std::move(bw));
    Parameter lat;
    lat.name = fmt::format("links.{}.latency_us", kind_name);
    lat.unit = "us";
    lat.meaning = fmt::format("latency of every {} link", kind_name);
    lat.lower = 0;
    lat.upper = 1000;
    lat.scale = 1;
    EveryLinkOfKind(&lat, kind, &proto::Link::latency_us, &proto::Link::set_latency_us);
    out->push_back(std::move(lat));
  }
}

}  // namespace

std::vector<Parameter> ParametersOf(const proto::Topology& topo) {
  std::vector<Parameter> out;
  const bool processes = topology::RankKind(topo) == proto::PROCESS;
  const proto::GpuSpec& g = topo.gpu();
  using G = proto::GpuSpec;
  if (processes) {
    out.push_back(GpuParameter("peak_flops", "FLOP/s", "GEMM rate of one rank for large GEMMs",
                               g.peak_flops() * 0.01, g.peak_flops() * 100, g.peak_flops(),
                               &G::peak_flops, &G::set_peak_flops));
  } else {
    out.push_back(GpuParameter("compute_efficiency", "", "achieved / peak FLOP/s, large GEMMs",
                               1e-3, 1, 1, &G::compute_efficiency, &G::set_compute_efficiency));
  }
  out.push_back(GpuParameter("gemm_half_rows", "rows",
                             "GEMM rows (M) at which efficiency is half of the large-GEMM one",
                             0, 1e5, 32, &G::gemm_half_rows, &G::set_gemm_half_rows));
  out.push_back(GpuParameter("launch_us", "us", "fixed cost per kernel", 0, 1e4, 10,
                             &G::launch_us, &G::set_launch_us));
  if (processes) {
    out.push_back(GpuParameter("mem_bw_gb_per_s", "GB/s", "streaming bandwidth of one rank",
                               g.mem_bw_gb_per_s() * 0.01, g.mem_bw_gb_per_s() * 100,
                               g.mem_bw_gb_per_s(), &G::mem_bw_gb_per_s,
                               &G::set_mem_bw_gb_per_s));
  } else {
    out.push_back(GpuParameter("memory_efficiency", "", "achieved / peak memory bandwidth", 1e-3,
                               1, 1, &G::memory_efficiency, &G::set_memory_efficiency));
  }
  out.push_back(GpuParameter("permute_row_ns", "ns", "cost per row gathered by the permute", 0,
                             1e6, 100, &G::permute_row_ns, &G::set_permute_row_ns));
  out.push_back(GpuParameter("reduce_row_ns", "ns", "cost per input row of the un-permute reduce",
                             0, 1e6, 100, &G::reduce_row_ns, &G::set_reduce_row_ns));
  out.push_back(GpuParameter("ffn_row_ns", "ns",
                             "cost per row of an expert FFN beyond its GEMMs (activation, dtype)",
                             0, 1e6, 100, &G::ffn_row_ns, &G::set_ffn_row_ns));
  AddLinkParameters(topo, &out);

  bool any_cpu = false;
  for (const proto::Component& c : topo.nodes()) any_cpu |= c.kind() == proto::CPU;
  if (any_cpu) {
    const double stock = topology::EffectiveNccl(topo).host_memory_gb_per_s();
    Parameter mem;
    mem.name = "cpu.memory_gb_per_s";
    mem.unit = "GB/s";
    mem.meaning = "host memory bandwidth of every CPU socket (reads + writes; SHM loads it twice)";
    double current = stock;
    for (const proto::Component& c : topo.nodes())
      if (c.kind() == proto::CPU && c.memory_gb_per_s() > 0) current = c.memory_gb_per_s();
    mem.lower = current * 0.01;
    mem.upper = current * 100;
    mem.scale = current;
    mem.get = [stock](const proto::Topology& t) {
      for (const proto::Component& c : t.nodes())
        if (c.kind() == proto::CPU) return c.memory_gb_per_s() > 0 ? c.memory_gb_per_s() : stock;
      return stock;
    };
    mem.set = [](proto::Topology* t, double v) {
      for (proto::Component& c : *t->mutable_nodes())
        if (c.kind() == proto::CPU) c.set_memory_gb_per_s(v);
    };
    out.push_back(std::move(mem));
    Parameter shm;
    shm.name = "nccl.shm_efficiency";
    shm.unit = "";
    shm.meaning = "share of its route's bandwidth a lone SHM transfer gets (staging copies)";
    shm.lower = 1e-3;
    shm.upper = 1;
    shm.scale = 1;
    shm.get = [](const proto::Topology& t) { return topology::EffectiveNccl(t).shm_efficiency(); };
    shm.set = [](proto::Topology* t, double v) { t->mutable_nccl()->set_shm_efficiency(v); };
    out.push_back(std::move(shm));
  }

  // The P2P forwarding cap only where a file sets one (0 means no cap).
  double p2p_cap = 0;
  for (const proto::Component& c : topo.nodes())
    if (c.kind() == proto::CPU) p2p_cap = std::max(p2p_cap, c.p2p_gb_per_s());
  if (p2p_cap > 0) {
    Parameter cap;
    cap.name = "cpu.p2p_gb_per_s";
    cap.unit = "GB/s";
    cap.meaning = "PCIe P2P through a CPU socket, per direction, shared (every CPU that sets it)";
    cap.lower = p2p_cap * 0.01;
    cap.upper = p2p_cap * 100;
    cap.scale = p2p_cap;
    cap.get = [](const proto::Topology& t) {
      for (const proto::Component& c : t.nodes())
        if (c.kind() == proto::CPU && c.p2p_gb_per_s() > 0) return c.p2p_gb_per_s();
      return 0.0;
    };
    cap.set = [](proto::Topology* t, double v) {
      for (proto::Component& c : *t->mutable_nodes())
        if (c.kind() == proto::CPU && c.p2p_gb_per_s() > 0) c.set_p2p_gb_per_s(v);
    };
    out.push_back(std::move(cap));
  }
  bool nvlink = false, network = false, pcie = false;
  for (const proto::Link& l : topo.links()) {
    nvlink |= l.kind() == proto::NVLINK;
    network |= l.kind() == proto::NETWORK;
    pcie |= l.kind() == proto::PCIE;
  }
  using P = proto::NcclProtocol;
  const proto::NcclModel nccl = topology::EffectiveNccl(topo);
  for (const proto::NcclProtocol& protocol : nccl.protocols()) {
    const std::string& n = protocol.name();
    AddProtocolParameter(&out, n, "base_latency_us", "us", "latency of every message", 0, 1e4, 10,
                         &P::base_latency_us, &P::set_base_latency_us);
    AddProtocolParameter(&out, n, "payload_efficiency", "", "share of link bandwidth carrying payload",
                         1e-3, 1, 1, &P::payload_efficiency, &P::set_payload_efficiency);
    if (nvlink)
      AddProtocolParameter(&out, n, "extra_hop_nvlink_us", "us", "extra latency, NVLink route", 0,
                           1e4, 1, &P::extra_hop_nvlink_us, &P::set_extra_hop_nvlink_us);
    if (pcie)
      AddProtocolParameter(&out, n, "extra_hop_pcie_us", "us", "extra latency, PCIe route", 0,
                           1e4, 1, &P::extra_hop_pcie_us, &P::set_extra_hop_pcie_us);
    if (network)
      AddProtocolParameter(&out, n, "extra_hop_network_us", "us", "extra latency, network route",
                           0, 1e4, 1, &P::extra_hop_network_us, &P::set_extra_hop_network_us);
    if (processes)
      AddProtocolParameter(&out, n, "extra_hop_memory_us", "us",
                           "extra latency per host-memory crossing (processes)", 0, 1e4, 1,
                           &P::extra_hop_memory_us, &P::set_extra_hop_memory_us);
  }
  // Of parameters with the same effect the first is fitted (calibration.h):
  // a protocol's latency before a link's, a link's bandwidth before a
  // protocol's efficiency.
  auto rank = [](const Parameter& p) {
    if (p.name.rfind("gpu.", 0) == 0) return 0;
    if (p.name.find(".bw_") != std::string::npos || p.name.rfind("cpu.", 0) == 0) return 1;
    if (p.name.find("base_latency") != std::string::npos) return 2;
    if (p.name.rfind("links.", 0) == 0) return 3;
    return 4;
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const Parameter& a, const Parameter& b) { return rank(a) < rank(b); });
  return out;
}

Result<const Parameter*> FindParameter(const std::vector<Parameter>& params,
                                       const std::string& name) {
  for (const Parameter& p : params)
    if (p.name == name) return &p;
  std::string names;
  for (const Parameter& p : params) names += (names.empty() ? "" : ", ") + p.name;
  return Status::BadInput(
      fmt::format("no parameter '{}' for this topology; its parameters: {}", name, names));
}

}  // namespace epsim::calibrate
