// Replay of one Schedule on a built Platform (internal to sim/engine).
//
// One actor per rank walks the schedule's phases in order, like a host
// thread issuing work to a GPU (or a CPU process running its own kernels):
//  - before issuing phase p it waits for each phase in p.depends_on to have
//    finished on its own rank (a compute phase: its kernels ran; an
//    all-to-all: every transfer into this rank arrived) — schedule.proto's
//    dependency rule;
//  - a compute phase is one Exec of the summed roofline time of its kernels;
//    compute phases of a rank run one after another in schedule order (one
//    stream), so a compute phase also waits for the previous one;
//  - an all-to-all starts a short-lived sender actor that waits each
//    destination's route latency and then puts that (src, dst) cell's bytes:
//    one transfer per non-zero cell, never per token. Sends are
//    asynchronous, so compute listed after an all-to-all overlaps it.
//    With max_inflight = W > 0 (NCCL-like), the rank instead sends in
//    pairwise order (round k = 1..n-1 goes to (r + k) mod n, zero cells
//    skipped) through W slots: each slot takes the next destination, waits
//    its route latency, puts the cell and waits for it to arrive, then takes
//    the next one, so at most W transfers of the phase are in flight per
//    rank. W = 0 keeps every cell in flight at once (nearest first).
//    A cell of B bytes waits the message latency of its pair and size and
//    loads its route's links with B / payload_efficiency bytes (transport.h).
//  - Granularity::kPhase replaces all of that for every all-to-all by one
//    SimGrid parallel task (ptask_L07) per phase: it starts when the last
//    rank has issued the phase plus the largest message latency among its
//    cells, carries the whole send matrix, and progresses at one rate, so it
//    ends when its most loaded link (given what else runs) has drained:
//    max over links of (bytes on the link / share of its bandwidth), the
//    fluid optimum of the all-to-all. Every rank's op ends then. One
//    activity per phase instead of one per cell: time and memory grow with
//    the number of rank pairs, not with their square.
//    With closed_form (the default), a phase task that no other all-to-all
//    can overlap (every other one is before or after it in the dependency
//    order, and a kPhase all-to-all ends on every rank at once) has its
//    links to itself: max-min then gives it the rate of its most loaded
//    link, so it ends at start + max over links of (load / bandwidth)
//    (load: the sum of its bytes on a SHARED link, the largest on a
//    FATPIPE one), and the replay sleeps that long instead of handing
//    SimGrid a task of n^2 flows. Phases that may overlap others (two
//    micro-batches, for one) still go to SimGrid.
// Every mailbox (phase, dst) has dst's walker as permanent receiver, so a
// transfer starts when the sender posts it, whatever the receiver is doing
// (receive buffers are posted ahead, as in NCCL); the receiver collects
// it when a phase depends on it, and drains the rest at its end.
//
// A rank's all-to-all op starts when the rank issues it and ends when its
// own transfers have arrived and every transfer into it has arrived (what a
// measured rank waits for), so per-rank busy times compare with epsim-hw's.
// Times are SimGrid clock seconds; Collect() reports them relative to the
// clock when Start() was called.
#ifndef EPSIM_SIM_ENGINE_REPLAY_H_
#define EPSIM_SIM_ENGINE_REPLAY_H_

#include <simgrid/s4u.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/base/status.h"
#include "sim/engine/platform.h"
#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"

namespace epsim::engine {

class Replay {
 public:
  // Keeps references to all three arguments: they must outlive the Replay.
  // `schedule` must pass ValidateSchedule against platform.ranks.size().
  // `tag` makes actor and mailbox names unique across replays.
  // `max_inflight`: transfers in flight per rank and all-to-all, 0 = unlimited.
  enum class Granularity { kPair, kPhase };
  Replay(const Platform& platform, const proto::GpuSpec& gpu, const proto::Schedule& schedule,
         int tag, uint32_t max_inflight = 0, Granularity granularity = Granularity::kPair,
         bool closed_form = true);

  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // Creates the rank actors. Call once, then run the Engine until it returns.
  void Start();

  // The timings, once the Engine has run: source, names, phases and ops.
  // Settings are left to the caller.
  proto::Report Collect(const std::string& topology_name) const;
  // Once the Engine has run: whether every phase finished on every rank.
  // BadInput naming the first one that did not (SimGrid stops early on a
  // deadlock, which figures it cannot advance time with, such as a peak
  // FLOP rate of 1e-300, produce), so a cut-short run is never reported.
  Status CheckComplete() const;
  // kPhase: the all-to-all phases ended in closed form, and all of them.
  uint32_t closed_form_phases() const { return closed_form_phases_; }
  uint32_t phase_tasks() const { return phase_task_count_; }

 private:
  // One phase on one rank.
  struct Op {
    simgrid::s4u::ExecPtr exec;  // compute with non-zero time; kept alive until done
    // All-to-all with comm_sm_share > 0: holding the rank's SMs (its host
    // in its slow pstate) from issue until it has sent and received all.
    bool occupying = false;
    uint32_t pending_in = 0;     // transfers into this rank not yet arrived
    bool sends_done = false;
    bool done = false;           // waited for by the rank's walker
    double start_s = 0;          // absolute clock
    double end_s = 0;
    uint64_t bytes = 0;          // all-to-all: bytes this rank sends
    // Windowed all-to-all: destinations in pairwise order, the next one to
    // post, and slots still running.
    std::vector<uint32_t> dsts;
    size_t next_dst = 0;
    uint32_t live_slots = 0;
  };
  // Granularity::kPhase: one all-to-all phase as a whole.
  struct PhaseTask {
    uint32_t issued = 0;  // ranks that have issued the phase
    bool done = false;
    double end_s = 0;
    simgrid::s4u::MutexPtr mutex;
    simgrid::s4u::ConditionVariablePtr finished;
  };

  void RunRank(uint32_t rank);
  void WaitFor(uint32_t rank, uint32_t phase);
  void ReceiveAll(uint32_t rank, uint32_t phase);
  void IssueCompute(uint32_t rank, uint32_t phase);
  void IssueAllToAll(uint32_t rank, uint32_t phase);
  void SendAll(uint32_t rank, uint32_t phase);
  void SendWindowed(uint32_t rank, uint32_t phase);
  void SendSlot(uint32_t rank, uint32_t phase);
  void RunPhaseTask(uint32_t phase);
  // comm_sm_share > 0: holds the share while (rank, phase) is in flight.
  void Occupy(uint32_t rank, uint32_t phase);
  void Arrived(uint32_t phase, uint32_t dst);
  void SendsDone(uint32_t rank, uint32_t phase);
  void EndOccupancyIfDone(uint32_t rank, uint32_t phase);
  void ReleaseOccupancy(uint32_t rank, uint32_t phase);
  bool DependsOn(int p, int q) const;
  void WaitPhaseTask(uint32_t phase);
  // closed_form: which all-to-alls no other all-to-all can overlap.
  void FindLonePhases();
  // The drain time of `bytes` ([src * n + dst], wire bytes) on links that
  // carry nothing else; negative if a link's sharing has no closed form.
  double DrainS(const std::vector<double>& bytes);
  uint64_t SendBytes(uint32_t phase, uint32_t src, uint32_t dst) const;
  // A message's latency in phase `phase` (pipelined steps: no base latency).
  double LatencyS(uint32_t phase, uint32_t src, uint32_t dst, uint64_t bytes) const;

  const Platform& platform_;
  const proto::GpuSpec& gpu_;
  const proto::Schedule& schedule_;
  const uint32_t num_ranks_;
  const int tag_;
  const uint32_t max_inflight_;
  const Granularity granularity_;
  const bool closed_form_;
  std::vector<uint8_t> lone_;  // [phase]: an all-to-all no other one overlaps
  std::vector<std::vector<uint32_t>> routes_;  // [src * n + dst]: links_ indices, filled lazily
  std::vector<simgrid::s4u::Link*> links_;     // the links some route crosses, densely numbered
  std::unordered_map<const simgrid::s4u::Link*, uint32_t> link_index_;
  std::vector<double> link_load_;              // [link]: scratch of DrainS
  uint32_t closed_form_phases_ = 0, phase_task_count_ = 0;
  double start_s_ = 0;
  std::vector<PhaseTask> phase_tasks_;                              // [phase], kPhase only
  std::vector<std::vector<Op>> ops_;                                // [phase][rank]
  std::vector<uint32_t> occupied_;  // [rank]: all-to-alls holding its SMs now
  bool occupancy_ = false;          // comm_sm_share > 0 and the plan overlaps (Start())
  // Per-pair replay: when the last transfer into each rank arrived, so a
  // rank's all-to-all op ends when it has sent and received everything, as
  // a measured rank's does.
  std::vector<std::vector<double>> arrived_s_;                      // [phase][dst]
  std::vector<std::vector<simgrid::s4u::Mailbox*>> mailboxes_;     // [phase][dst]
};

}  // namespace epsim::engine

#endif  // EPSIM_SIM_ENGINE_REPLAY_H_
