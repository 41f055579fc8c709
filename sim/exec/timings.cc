#include "sim/exec/timings.h"

#include <algorithm>

#include "sim/exec/schedule_check.h"

namespace epsim::exec {

OpTimes::OpTimes(uint32_t num_phases, uint32_t ranks)
    : num_ranks(ranks),
      start_s(size_t{num_phases} * ranks, 0.0),
      end_s(size_t{num_phases} * ranks, 0.0),
      bytes(size_t{num_phases} * ranks, 0) {}

namespace {

// The op (phase, rank) waited for by op x: the candidates are what the
// executors make it wait for (schedule.proto's rule): its dependencies on
// its own rank; for an all-to-all also the dependencies of every rank that
// sends to it (its transfers start there); for a compute op also the
// previous compute op of its rank (one compute stream). Of those that ended
// by the time x ended, the latest; ties to the lowest phase, then rank.
struct OpRef {
  int phase = -1;
  uint32_t rank = 0;
};

class CriticalPath {
 public:
  CriticalPath(const proto::Schedule& schedule, const OpTimes& times)
      : schedule_(schedule), times_(times), n_(times.num_ranks) {
    const int phases = schedule.phases_size();
    prev_compute_.assign(phases, -1);
    int last = -1;
    for (int p = 0; p < phases; ++p) {
      if (IsAllToAll(schedule.phases(p))) continue;
      prev_compute_[p] = last;
      last = p;
    }
  }

  // Per phase, the seconds of the critical path its ops take, out of
  // `total_s`; marks the ops on it in `on_path` ([phase * ranks + rank]).
  std::vector<double> Attribute(double total_s, std::vector<bool>* on_path) const {
    const int phases = schedule_.phases_size();
    std::vector<double> critical(phases, 0.0);
    on_path->assign(times_.end_s.size(), false);
    if (phases == 0 || n_ == 0) return critical;
    OpRef x;
    for (int p = 0; p < phases; ++p) {
      for (uint32_t r = 0; r < n_; ++r) {
        if (x.phase < 0 || End({p, r}) > End(x)) x = {p, r};
      }
    }
    // `boundary` only goes down: each op takes the time from where its
    // predecessor ended (or from 0) up to the boundary, never less than 0.
    double boundary = total_s;
    while (x.phase >= 0) {
      (*on_path)[times_.Index(x.phase, x.rank)] = true;
      const OpRef pred = Predecessor(x);
      const double from = std::min(boundary, pred.phase >= 0 ? std::max(End(pred), 0.0) : 0.0);
      critical[x.phase] += boundary - from;
      boundary = from;
      x = pred;
    }
    return critical;
  }

 private:
  double End(OpRef op) const { return times_.end_s[times_.Index(op.phase, op.rank)]; }

  OpRef Predecessor(OpRef x) const {
    const proto::Phase& phase = schedule_.phases(x.phase);
    OpRef best, late;  // the latest that ended by End(x); the latest of all
    const double limit = End(x);
    const auto later = [&](OpRef a, OpRef b) {  // a ends after b (ties: lower phase, rank)
      const double ea = End(a), eb = End(b);
      return ea > eb || (ea == eb && (a.phase < b.phase || (a.phase == b.phase && a.rank < b.rank)));
    };
    const auto consider = [&](int p, uint32_t r) {
      if (p < 0 || p >= x.phase) return;  // dependencies point back
      const OpRef op{p, r};
      if (late.phase < 0 || later(op, late)) late = op;
      if (End(op) <= limit && (best.phase < 0 || later(op, best))) best = op;
    };
    for (uint32_t d : phase.depends_on()) consider(static_cast<int>(d), x.rank);
    if (IsAllToAll(phase)) {
      for (uint32_t src = 0; src < n_; ++src) {
        if (src == x.rank || phase.send_bytes(src * n_ + x.rank) == 0) continue;
        for (uint32_t d : phase.depends_on()) consider(static_cast<int>(d), src);
      }
    } else {
      consider(prev_compute_[x.phase], x.rank);
    }
    return best.phase >= 0 ? best : late;
  }

  const proto::Schedule& schedule_;
  const OpTimes& times_;
  const uint32_t n_;
  std::vector<int> prev_compute_;  // [phase]: the compute phase before it, -1 none
};

// All-to-all op (p, r): the part of it before the last sender into r had
// issued p, within [0, busy].
double WaitS(const proto::Schedule& schedule, uint32_t p, uint32_t r, const OpTimes& times) {
  const proto::Phase& phase = schedule.phases(p);
  if (!IsAllToAll(phase)) return 0.0;
  const uint32_t n = times.num_ranks;
  const size_t i = times.Index(p, r);
  double ready = times.start_s[i];
  for (uint32_t src = 0; src < n; ++src) {
    if (src != r && phase.send_bytes(src * n + r) > 0)
      ready = std::max(ready, times.start_s[times.Index(p, src)]);
  }
  return std::clamp(ready - times.start_s[i], 0.0, times.end_s[i] - times.start_s[i]);
}

void AddPhase(const proto::Schedule& schedule, uint32_t p, const OpTimes& times,
              double critical_s, const std::vector<bool>& on_path, proto::Report* report) {
  const proto::Phase& phase = schedule.phases(p);
  proto::PhaseTiming* timing = report->add_phases();
  timing->set_phase(p);
  timing->set_layer(phase.layer());
  timing->set_kind(phase.kind());
  for (uint64_t bytes : phase.send_bytes()) timing->set_bytes(timing->bytes() + bytes);
  for (uint64_t rows : phase.send_rows()) timing->set_rows(timing->rows() + rows);
  double busy_sum = 0, wait_sum = 0;
  timing->set_critical_s(critical_s);
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
    const double wait = WaitS(schedule, p, rank, times);
    op->set_wait_s(wait);
    op->set_critical(on_path[i]);
    wait_sum += wait;
    timing->set_wait_max_s(std::max(timing->wait_max_s(), wait));
    busy_sum += busy;
    timing->set_busy_max_s(rank == 0 ? busy : std::max(timing->busy_max_s(), busy));
    if (rank == 0 || op->start_s() < timing->start_s()) timing->set_start_s(op->start_s());
    if (rank == 0 || op->end_s() > timing->end_s()) {
      timing->set_end_s(op->end_s());
      timing->set_max_rank(rank);
    }
  }
  timing->set_busy_mean_s(times.num_ranks > 0 ? busy_sum / times.num_ranks : 0);
  timing->set_wait_mean_s(times.num_ranks > 0 ? wait_sum / times.num_ranks : 0);
}

}  // namespace

proto::Report AssembleReport(const proto::Schedule& schedule, const std::string& source,
                             const std::string& topology, const OpTimes& times,
                             double pass_time_s) {
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
  for (double end : times.end_s) total_s = std::max(total_s, end);
  if (pass_time_s >= 0) total_s = pass_time_s;
  std::vector<bool> on_path;
  const std::vector<double> critical = CriticalPath(schedule, times).Attribute(total_s, &on_path);
  for (int p = 0; p < schedule.phases_size(); ++p)
    AddPhase(schedule, static_cast<uint32_t>(p), times, critical[p], on_path, &report);
  report.set_total_time_s(total_s);
  report.set_total_time_min_s(total_s);
  report.set_total_time_max_s(total_s);
  return report;
}

}  // namespace epsim::exec
