// The `nvidia-smi topo -m` reader and the topology built from it, on any
// text. Properties: a matrix that parses is square and symmetric with X on
// its diagonal only; a topology built from it passes ValidateTopology (the
// builder's promise, smi_topo.h), and nvidia-smi's view of that topology
// (RelationsOf) gives back every GPU-to-GPU cell that was read.
#include <string>

#include "sim/topology/smi_topo.h"
#include "sim/topology/topology.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using epsim::topology::SmiLink;
using epsim::topology::SmiRelationName;

epsim::proto::GpuSpec SomeGpu() {
  epsim::proto::GpuSpec gpu;  // an A6000-like spec: the builder needs one
  gpu.set_name("NVIDIA RTX A6000");
  gpu.set_peak_flops(154.8e12);
  gpu.set_mem_bw_gb_per_s(768);
  gpu.set_compute_efficiency(0.7);
  gpu.set_memory_efficiency(0.8);
  gpu.set_launch_us(5);
  gpu.set_memory_gb(48);
  return gpu;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto matrix = epsim::topology::ParseSmiTopo(text, "fuzz.txt");
  if (!matrix.ok()) return 0;
  const size_t n = matrix->devices.size();
  if (matrix->relations.size() != n) epsim::fuzz::PropertyFailed("matrix rows != devices", "");
  for (size_t a = 0; a < n; ++a) {
    if (matrix->relations[a].size() != n) epsim::fuzz::PropertyFailed("a row of other length", "");
    for (size_t b = 0; b < n; ++b) {
      if ((matrix->relations[a][b].link == SmiLink::kSelf) != (a == b))
        epsim::fuzz::PropertyFailed("X off the diagonal or missing on it", matrix->devices[a].name);
      if (!(matrix->relations[a][b] == matrix->relations[b][a]))
        epsim::fuzz::PropertyFailed("an asymmetric matrix parsed", matrix->devices[a].name);
    }
  }
  epsim::topology::SmiOptions options;
  options.gpu = SomeGpu();
  const auto topo = epsim::topology::TopologyFromSmi(matrix.value(), options);
  if (!topo.ok()) return 0;
  if (const auto valid = epsim::topology::ValidateTopology(topo.value()); !valid.ok())
    epsim::fuzz::PropertyFailed("a built topology does not validate", valid.ToString());
  const epsim::topology::SmiMatrix back =
      epsim::topology::RelationsOf(topo.value(), options.nvlink_gb_per_s);
  const int gpus = matrix->num_gpus();
  if (back.num_gpus() != gpus) epsim::fuzz::PropertyFailed("GPUs lost in the topology", "");
  for (int a = 0; a < gpus; ++a)
    for (int b = 0; b < gpus; ++b)
      if (!(back.Relation(a, b) == matrix->Relation(a, b)))
        epsim::fuzz::PropertyFailed(
            "the topology relates two GPUs otherwise than the matrix",
            matrix->devices[a].name + "-" + matrix->devices[b].name + ": read " +
                SmiRelationName(matrix->Relation(a, b)) + ", built " +
                SmiRelationName(back.Relation(a, b)));
  return 0;
}
