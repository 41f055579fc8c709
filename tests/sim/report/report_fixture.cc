#include "tests/sim/report/report_fixture.h"

#include <cstdint>

namespace epsim::report {

namespace {

constexpr double kUs = 1e-6;

// Adds a phase and one op per rank; `sent` is what ranks 0 and 1 send.
void AddPhase(proto::Report* report, uint32_t layer, proto::PhaseKind kind, double start_us,
              double end_us, uint64_t sent0, uint64_t sent1) {
  const uint32_t id = report->phases_size();
  proto::PhaseTiming* phase = report->add_phases();
  phase->set_phase(id);
  phase->set_layer(layer);
  phase->set_kind(kind);
  phase->set_start_s(start_us * kUs);
  phase->set_end_s(end_us * kUs);
  phase->set_bytes(sent0 + sent1);
  phase->set_rows((sent0 + sent1) / 1000);
  phase->set_max_rank(sent1 > sent0 ? 1 : 0);
  phase->set_busy_max_s((end_us - start_us - 2) * kUs);
  phase->set_busy_mean_s((end_us - start_us - 4) * kUs);
  phase->set_critical_s((end_us - start_us) * kUs);
  if (kind == proto::DISPATCH || kind == proto::COMBINE) {
    phase->set_wait_max_s(2 * kUs);
    phase->set_wait_mean_s(1 * kUs);
  }
  const uint64_t sent[2] = {sent0, sent1};
  for (uint32_t rank = 0; rank < 2; ++rank) {
    proto::OpTiming* op = report->add_ops();
    op->set_phase(id);
    op->set_rank(rank);
    op->set_start_s(start_us * kUs);
    op->set_end_s(end_us * kUs);
    op->set_bytes(sent[rank]);
  }
}

}  // namespace

proto::Report MakeTwoLayerReport(const std::string& strategy) {
  proto::Report report;
  report.set_source("simulated");
  report.set_model("olmoe-1b-7b");
  report.set_topology("tiny");
  report.set_strategy(strategy);
  report.set_placement("contiguous");
  report.set_num_ranks(2);
  report.set_total_time_s(130 * kUs);
  report.set_total_time_min_s(130 * kUs);
  report.set_total_time_max_s(130 * kUs);
  report.set_iterations(1);
  AddPhase(&report, 0, proto::ATTENTION, 0, 10, 0, 0);
  AddPhase(&report, 0, proto::DISPATCH, 10, 30, 1000, 3000);
  AddPhase(&report, 0, proto::EXPERT, 30, 45, 0, 0);
  AddPhase(&report, 0, proto::COMBINE, 45, 65, 2000, 2000);
  AddPhase(&report, 1, proto::ATTENTION, 65, 75, 0, 0);
  AddPhase(&report, 1, proto::DISPATCH, 75, 95, 1000, 7000);
  AddPhase(&report, 1, proto::EXPERT, 95, 110, 0, 0);
  AddPhase(&report, 1, proto::COMBINE, 110, 130, 3000, 3000);
  (*report.mutable_settings())["network"] = "flow";
  return report;
}

}  // namespace epsim::report
