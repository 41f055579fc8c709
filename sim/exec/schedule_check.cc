#include "sim/exec/schedule_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace epsim::exec {

namespace {

Status CheckKernels(const proto::RankWork& work, uint32_t rank) {
  for (const proto::Kernel& k : work.kernels()) {
    bool finite = std::isfinite(k.flops()) && std::isfinite(k.bytes());
    if (!finite || k.flops() < 0 || k.bytes() < 0)
      return Status::BadInput(fmt::format("rank {} kernel '{}': flops {} and bytes {} must be "
                                          "finite and >= 0",
                                          rank, k.name(), k.flops(), k.bytes()));
  }
  return Status::Ok();
}

Status CheckCompute(const proto::Phase& phase, uint32_t n) {
  if (static_cast<uint32_t>(phase.work_size()) != n)
    return Status::BadInput(
        fmt::format("compute phase has {} work entries, want num_ranks {}", phase.work_size(), n));
  for (uint32_t r = 0; r < n; ++r) EPSIM_RETURN_IF_ERROR(CheckKernels(phase.work(r), r));
  return Status::Ok();
}

Status CheckAllToAll(const proto::Phase& phase, uint32_t n) {
  int cells = static_cast<int>(n * n);
  if (phase.send_bytes_size() != cells)
    return Status::BadInput(fmt::format("all-to-all has {} send_bytes entries, want {} x {}",
                                        phase.send_bytes_size(), n, n));
  if (phase.send_rows_size() != 0 && phase.send_rows_size() != cells)
    return Status::BadInput(fmt::format("all-to-all has {} send_rows entries, want 0 or {} x {}",
                                        phase.send_rows_size(), n, n));
  for (uint32_t r = 0; r < n; ++r) {
    if (phase.send_bytes(r * n + r) != 0)
      return Status::BadInput(fmt::format("send_bytes[{}][{}] must be 0", r, r));
  }
  return Status::Ok();
}

Status CheckPhase(const proto::Phase& phase, int index, uint32_t n) {
  if (phase.id() != static_cast<uint32_t>(index))
    return Status::BadInput(fmt::format("id {} != its index", phase.id()));
  for (uint32_t dep : phase.depends_on()) {
    if (dep >= static_cast<uint32_t>(index))
      return Status::BadInput(fmt::format("depends on phase {}, not an earlier one", dep));
  }
  return IsAllToAll(phase) ? CheckAllToAll(phase, n) : CheckCompute(phase, n);
}

}  // namespace

bool IsAllToAll(const proto::Phase& phase) {
  if (phase.phase_class() != proto::PHASE_CLASS_UNSPECIFIED)
    return phase.phase_class() == proto::ALL_TO_ALL;
  return phase.kind() == proto::DISPATCH || phase.kind() == proto::COMBINE ||
         phase.send_bytes_size() > 0;
}

bool HasOverlap(const proto::Schedule& schedule) {
  for (int p = 1; p < schedule.phases_size(); ++p) {
    const auto& deps = schedule.phases(p).depends_on();
    if (std::find(deps.begin(), deps.end(), static_cast<uint32_t>(p - 1)) == deps.end())
      return true;
  }
  return false;
}

bool LayersInterleave(const proto::Schedule& schedule) {
  std::vector<uint32_t> open;  // layers whose gate came and whose reduce has not
  for (const proto::Phase& p : schedule.phases()) {
    if (p.kind() == proto::GATE_PERMUTE) {
      if (!open.empty()) return true;
      open.push_back(p.layer());
    } else if (p.kind() == proto::UNPERMUTE_REDUCE) {
      open.erase(std::remove(open.begin(), open.end(), p.layer()), open.end());
    }
  }
  return false;
}

Status ValidateSchedule(const proto::Schedule& schedule, size_t num_gpus) {
  uint32_t n = schedule.num_ranks();
  if (n == 0) return Status::BadInput("num_ranks is 0");
  if (n > num_gpus)
    return Status::BadInput(
        fmt::format("num_ranks {} > {} GPUs in the topology", n, num_gpus));
  for (int i = 0; i < schedule.phases_size(); ++i)
    EPSIM_RETURN_IF_ERROR(
        CheckPhase(schedule.phases(i), i, n).WithContext(fmt::format("phase {}", i)));
  return Status::Ok();
}

}  // namespace epsim::exec
