#include "sim/exec/timings.h"

#include <algorithm>

namespace epsim::exec {

OpTimes::OpTimes(uint32_t num_phases, uint32_t ranks)
    : num_ranks(ranks),
      start_s(size_t{num_phases} * ranks, 0.0),
      end_s(size_t{num_phases} * ranks, 0.0),
      bytes(size_t{num_phases} * ranks, 0) {}

namespace {

void AddPhase(const proto::Schedule& schedule, uint32_t p, const OpTimes& times,
              proto::Report* report) {
  const proto::Phase& phase = schedule.phases(p);
  proto::PhaseTiming* timing = report->add_phases();
  timing->set_phase(p);
  timing->set_layer(phase.layer());
  timing->set_kind(phase.kind());
  for (uint64_t bytes : phase.send_bytes()) timing->set_bytes(timing->bytes() + bytes);
  for (uint64_t rows : phase.send_rows()) timing->set_rows(timing->rows() + rows);
  double busy_sum = 0;
  for (uint32_t rank = 0; rank < times.num_ranks; ++rank) {
    const size_t i = times.Index(p, rank);
    proto::OpTiming* op = report->add_ops();
    op->set_phase(p);
    op->set_rank(rank);
    op->set_start_s(times.start_s[i]);
    op->set_end_s(times.end_s[i]);
    op->set_bytes(times.bytes[i]);
    const double busy = times.end_s[i] - times.start_s[i];
    op->set_busy_min_s(times.busy_min_s.empty() ? busy : times.busy_min_s[i]);
    op->set_busy_max_s(times.busy_max_s.empty() ? busy : times.busy_max_s[i]);
    busy_sum += busy;
    timing->set_busy_max_s(rank == 0 ? busy : std::max(timing->busy_max_s(), busy));
    if (rank == 0 || op->start_s() < timing->start_s()) timing->set_start_s(op->start_s());
    if (rank == 0 || op->end_s() > timing->end_s()) {
      timing->set_end_s(op->end_s());
      timing->set_max_rank(rank);
    }
  }
  timing->set_busy_mean_s(times.num_ranks > 0 ? busy_sum / times.num_ranks : 0);
}

}  // namespace

proto::Report AssembleReport(const proto::Schedule& schedule, const std::string& source,
                             const std::string& topology, const OpTimes& times) {
  proto::Report report;
  report.set_source(source);
  report.set_model(schedule.model());
  report.set_topology(topology);
  report.set_strategy(schedule.strategy());
  report.set_placement(schedule.placement());
  report.set_num_ranks(schedule.num_ranks());
  *report.mutable_routing() = schedule.routing();
  report.set_iterations(1);
  double total_s = 0;
  for (int p = 0; p < schedule.phases_size(); ++p) {
    AddPhase(schedule, static_cast<uint32_t>(p), times, &report);
    total_s = std::max(total_s, report.phases(p).end_s());
  }
  report.set_total_time_s(total_s);
  report.set_total_time_min_s(total_s);
  report.set_total_time_max_s(total_s);
  return report;
}

}  // namespace epsim::exec
