#include "sim/engine/replay.h"

#include "sim/exec/timings.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "sim/topology/roofline.h"
#include "sim/exec/pairwise.h"
#include "sim/exec/schedule_check.h"

namespace epsim::engine {

namespace sg4 = simgrid::s4u;

namespace {

// SimGrid refuses to send a null payload; every transfer carries this
// address and nothing reads it.
int kPayload = 0;

}  // namespace

Replay::Replay(const Platform& platform, const proto::GpuSpec& gpu,
               const proto::Schedule& schedule, int tag, uint32_t max_inflight,
               Granularity granularity, bool closed_form)
    : platform_(platform),
      gpu_(gpu),
      schedule_(schedule),
      num_ranks_(schedule.num_ranks()),
      tag_(tag),
      max_inflight_(max_inflight),
      granularity_(granularity),
      closed_form_(closed_form),
      ops_(schedule.phases_size(), std::vector<Op>(schedule.num_ranks())),
      occupied_(schedule.num_ranks(), 0),
      arrived_s_(schedule.phases_size(), std::vector<double>(schedule.num_ranks(), 0.0)),
      mailboxes_(schedule.phases_size()) {}

void Replay::Start() {
  start_s_ = sg4::Engine::get_clock();
  // SM occupancy matters only where compute may overlap an all-to-all:
  // some phase that does not wait for the one before it. Otherwise every
  // compute phase waits for the all-to-all before it, which it releases
  // anyway, so plans without overlap skip the bookkeeping altogether.
  occupancy_ = gpu_.comm_sm_share() > 0 && exec::HasOverlap(schedule_);
  // Transfers each rank's all-to-all op waits for (occupancy's end).
  for (int p = 0; p < schedule_.phases_size() && occupancy_; ++p) {
    if (!exec::IsAllToAll(schedule_.phases(p))) continue;
    for (uint32_t dst = 0; dst < num_ranks_; ++dst)
      for (uint32_t src = 0; src < num_ranks_; ++src)
        if (SendBytes(p, src, dst) > 0) ++ops_[p][dst].pending_in;
  }
  if (granularity_ == Granularity::kPhase) {
    phase_tasks_.resize(schedule_.phases_size());
    if (closed_form_) FindLonePhases();
    for (PhaseTask& task : phase_tasks_) {
      task.mutex = sg4::Mutex::create();
      task.finished = sg4::ConditionVariable::create();
    }
    // Ranks walk and wait, the phase tasks carry the bytes: no mailboxes.
    for (uint32_t rank = 0; rank < num_ranks_; ++rank)
      sg4::Actor::create(fmt::format("s{}-rank{}", tag_, rank), platform_.ranks[rank],
                         [this, rank] { RunRank(rank); });
    return;
  }
  for (uint32_t rank = 0; rank < num_ranks_; ++rank) {
    sg4::ActorPtr actor = sg4::Actor::create(fmt::format("s{}-rank{}", tag_, rank),
                                             platform_.ranks[rank], [this, rank] { RunRank(rank); });
    for (int p = 0; p < schedule_.phases_size(); ++p) {
      if (!exec::IsAllToAll(schedule_.phases(p))) continue;
      mailboxes_[p].resize(num_ranks_);
      mailboxes_[p][rank] = sg4::Mailbox::by_name(fmt::format("s{}-p{}-r{}", tag_, p, rank));
      mailboxes_[p][rank]->set_receiver(actor);
    }
  }
}

uint64_t Replay::SendBytes(uint32_t phase, uint32_t src, uint32_t dst) const {
  return schedule_.phases(phase).send_bytes(src * num_ranks_ + dst);
}

double Replay::LatencyS(uint32_t phase, uint32_t src, uint32_t dst, uint64_t bytes) const {
  const bool with_base = !schedule_.phases(static_cast<int>(phase)).pipelined();
  return platform_.transports.MessageLatencyUs(src, dst, bytes, with_base) * 1e-6;
}

void Replay::RunRank(uint32_t rank) {
  int last_compute = -1;
  for (int p = 0; p < schedule_.phases_size(); ++p) {
    const proto::Phase& phase = schedule_.phases(p);
    for (uint32_t dep : phase.depends_on()) WaitFor(rank, dep);
    if (exec::IsAllToAll(phase)) {
      IssueAllToAll(rank, p);
      continue;
    }
    if (last_compute >= 0) WaitFor(rank, last_compute);  // one stream per rank
    // Compute that waited for an all-to-all (directly or not) runs after
    // it: whatever of the rank's own sends is still draining no longer
    // holds SMs against it (so plans without overlap time as they did
    // before SM shares).
    for (int q = 0; q < p && occupied_[rank] > 0; ++q)
      if (ops_[q][rank].occupying && DependsOn(p, q)) ReleaseOccupancy(rank, q);
    IssueCompute(rank, p);
    last_compute = p;
  }
  // Collect whatever no phase depended on, so every activity ends in this run.
  for (int p = 0; p < schedule_.phases_size(); ++p) WaitFor(rank, p);

  for (auto& per_dst : mailboxes_) {
    if (!per_dst.empty()) per_dst[rank]->set_receiver(nullptr);
  }
}

// Body of the actor that runs phase `phase` as one parallel task (kPhase),
// started by the last rank to issue it.
void Replay::RunPhaseTask(uint32_t phase) {
  const size_t n = num_ranks_;
  std::vector<sg4::Host*> hosts(platform_.ranks.begin(), platform_.ranks.begin() + n);
  std::vector<double> flops(n, 0.0), bytes(n * n, 0.0);
  double latency_s = 0;
  bool any = false;
  for (uint32_t src = 0; src < n; ++src) {
    for (uint32_t dst = 0; dst < n; ++dst) {
      const uint64_t b = SendBytes(phase, src, dst);
      if (b == 0) continue;
      any = true;
      bytes[src * n + dst] = platform_.transports.WireBytes(src, dst, b);
      latency_s = std::max(latency_s, LatencyS(phase, src, dst, b));
    }
  }
  if (any) {
    ++phase_task_count_;
    const double drain_s = lone_.empty() || !lone_[phase] ? -1 : DrainS(bytes);
    if (drain_s >= 0) {
      ++closed_form_phases_;
      sg4::this_actor::sleep_for(latency_s + drain_s);
    } else {
      sg4::this_actor::sleep_for(latency_s);
      sg4::ExecPtr task = sg4::this_actor::exec_init(hosts, flops, bytes);
      task->start();
      task->wait();
    }
  }
  PhaseTask& pt = phase_tasks_[phase];
  pt.end_s = sg4::Engine::get_clock();
  for (uint32_t r = 0; r < num_ranks_; ++r) {
    ops_[phase][r].pending_in = 0;
    ops_[phase][r].sends_done = true;
    EndOccupancyIfDone(r, phase);
  }
  std::unique_lock lock(*pt.mutex);
  pt.done = true;
  pt.finished->notify_all();
}

void Replay::FindLonePhases() {
  // Number the all-to-alls 0..m-1 in phase order; before[p]: those phase p
  // waits for, directly or not (dependencies point to earlier phases:
  // schedule_check.h), as bitsets of m bits.
  const size_t n = schedule_.phases_size();
  std::vector<uint32_t> all_to_alls, index(n, 0);
  for (size_t p = 0; p < n; ++p)
    if (exec::IsAllToAll(schedule_.phases(static_cast<int>(p)))) {
      index[p] = static_cast<uint32_t>(all_to_alls.size());
      all_to_alls.push_back(static_cast<uint32_t>(p));
    }
  const size_t m = all_to_alls.size(), words = (m + 63) / 64;
  // n x m bits (and m^2 pair checks) at most 16 MiB: beyond, as in a decode
  // of hundreds of steps at large EP, every phase goes to SimGrid.
  if (n * words * 64 > (size_t{1} << 27)) return;
  std::vector<uint64_t> before(n * words, 0);
  for (size_t p = 0; p < n; ++p) {
    uint64_t* mine = before.data() + p * words;
    for (uint32_t d : schedule_.phases(static_cast<int>(p)).depends_on()) {
      const uint64_t* theirs = before.data() + size_t{d} * words;
      for (size_t w = 0; w < words; ++w) mine[w] |= theirs[w];
      if (exec::IsAllToAll(schedule_.phases(static_cast<int>(d))))
        mine[index[d] / 64] |= uint64_t{1} << (index[d] % 64);
    }
  }
  lone_.assign(n, 1);
  for (size_t j = 0; j < m; ++j) {
    const uint64_t* waited = before.data() + size_t{all_to_alls[j]} * words;
    for (size_t i = 0; i < j; ++i)
      if (!((waited[i / 64] >> (i % 64)) & 1))  // j may overlap i
        lone_[all_to_alls[i]] = lone_[all_to_alls[j]] = 0;
  }
}

double Replay::DrainS(const std::vector<double>& bytes) {
  const size_t n = num_ranks_;
  bool closed = true;
  if (routes_.empty()) routes_.resize(n * n);
  for (uint32_t src = 0; src < n; ++src)
    for (uint32_t dst = 0; dst < n; ++dst) {
      const double b = bytes[src * n + dst];
      if (b <= 0) continue;
      std::vector<uint32_t>& route = routes_[src * n + dst];
      if (route.empty()) {
        std::vector<sg4::Link*> links;
        platform_.ranks[src]->route_to(platform_.ranks[dst], links, nullptr);
        for (sg4::Link* l : links) {
          auto [it, fresh] = link_index_.emplace(l, static_cast<uint32_t>(links_.size()));
          if (fresh) links_.push_back(l);
          route.push_back(it->second);
        }
      }
      link_load_.resize(links_.size(), 0.0);
      for (uint32_t l : route) {
        double& load = link_load_[l];
        switch (links_[l]->get_sharing_policy()) {
          case sg4::Link::SharingPolicy::SHARED: load += b; break;
          case sg4::Link::SharingPolicy::FATPIPE: load = std::max(load, b); break;
          default: closed = false; break;  // wifi, non-linear: no closed form
        }
      }
    }
  double drain_s = 0;
  for (size_t l = 0; l < link_load_.size(); ++l) {
    if (link_load_[l] > 0) drain_s = std::max(drain_s, link_load_[l] / links_[l]->get_bandwidth());
    link_load_[l] = 0;
  }
  return closed ? drain_s : -1;
}

void Replay::WaitPhaseTask(uint32_t phase) {
  PhaseTask& pt = phase_tasks_[phase];
  std::unique_lock lock(*pt.mutex);
  while (!pt.done) pt.finished->wait(lock);
}

void Replay::WaitFor(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  if (op.done) return;
  if (exec::IsAllToAll(schedule_.phases(phase)) && granularity_ == Granularity::kPhase) {
    WaitPhaseTask(phase);
    op.end_s = phase_tasks_[phase].end_s;
  } else if (exec::IsAllToAll(schedule_.phases(phase))) {
    ReceiveAll(rank, phase);
  } else if (op.exec) {
    op.exec->wait();
    op.end_s = op.exec->get_finish_time();
  }
  op.done = true;
}

// Blocks until every transfer of `phase` into `rank` has arrived.
void Replay::ReceiveAll(uint32_t rank, uint32_t phase) {
  std::vector<void*> payloads(num_ranks_, nullptr);
  std::vector<sg4::CommPtr> receives;
  for (uint32_t src = 0; src < num_ranks_; ++src) {
    if (SendBytes(phase, src, rank) > 0)
      receives.push_back(mailboxes_[phase][rank]->get_async<void>(&payloads[src]));
  }
  sg4::Comm::wait_all(receives);
}

void Replay::IssueCompute(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  op.start_s = op.end_s = sg4::Engine::get_clock();
  double time_s = topology::WorkTimeS(gpu_, schedule_.phases(phase).work(rank));
  if (time_s > 0) {
    op.exec = sg4::this_actor::exec_async(time_s * kHostFlopsPerS);
  } else {
    op.done = true;  // nothing to run: finishes where it starts
  }
}

// The SMs an all-to-all kernel holds from its issue until it has sent and
// received everything: the rank's host runs in its second pstate, (1 -
// comm_sm_share) of its speed (platform.cc), while any all-to-all of the
// rank does, so compute running meanwhile slows by the share (SimGrid
// re-rates running execs when a host's speed changes; the ptask model has
// no per-exec bound). Without compute it changes no time.
void Replay::Occupy(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  if (!occupancy_ || (op.sends_done && op.pending_in == 0)) return;
  op.occupying = true;
  if (occupied_[rank]++ == 0) platform_.ranks[rank]->set_pstate(1);
}

void Replay::EndOccupancyIfDone(uint32_t rank, uint32_t phase) {
  const Op& op = ops_[phase][rank];
  if (op.sends_done && op.pending_in == 0) ReleaseOccupancy(rank, phase);
}

// Whether phase p waits for phase q, through any chain of dependencies
// (they point back, so the search stays within q..p).
bool Replay::DependsOn(int p, int q) const {
  std::vector<int> stack = {p};
  std::vector<bool> seen(p - q + 1, false);
  while (!stack.empty()) {
    const int x = stack.back();
    stack.pop_back();
    for (uint32_t d : schedule_.phases(x).depends_on()) {
      const int dep = static_cast<int>(d);
      if (dep == q) return true;
      if (dep < q || seen[dep - q]) continue;
      seen[dep - q] = true;
      stack.push_back(dep);
    }
  }
  return false;
}

void Replay::ReleaseOccupancy(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  if (!op.occupying) return;
  op.occupying = false;
  if (--occupied_[rank] == 0) platform_.ranks[rank]->set_pstate(0);
}

void Replay::Arrived(uint32_t phase, uint32_t dst) {
  Op& op = ops_[phase][dst];
  if (op.pending_in > 0) --op.pending_in;
  EndOccupancyIfDone(dst, phase);
}

void Replay::SendsDone(uint32_t rank, uint32_t phase) {
  ops_[phase][rank].sends_done = true;
  EndOccupancyIfDone(rank, phase);
}

void Replay::IssueAllToAll(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  op.start_s = op.end_s = sg4::Engine::get_clock();
  for (uint32_t dst = 0; dst < num_ranks_; ++dst) op.bytes += SendBytes(phase, rank, dst);
  // Nothing of its own to send (the per-pair senders set it otherwise).
  if (granularity_ == Granularity::kPair && op.bytes == 0) op.sends_done = true;
  Occupy(rank, phase);
  if (granularity_ == Granularity::kPhase) {
    if (++phase_tasks_[phase].issued == num_ranks_)
      sg4::Actor::create(fmt::format("s{}-task-p{}", tag_, phase), platform_.ranks[rank],
                         [this, phase] { RunPhaseTask(phase); });
    return;
  }
  if (op.bytes == 0) return;
  if (max_inflight_ > 0) {
    SendWindowed(rank, phase);
    return;
  }
  sg4::Actor::create(fmt::format("s{}-rank{}-send-p{}", tag_, rank, phase),
                     platform_.ranks[rank], [this, rank, phase] { SendAll(rank, phase); });
}

// Body of the sender actor of (rank, phase): posts each transfer once its
// route latency has elapsed (nearest destinations first), then records when
// the last one arrived.
void Replay::SendAll(uint32_t rank, uint32_t phase) {
  std::vector<uint32_t> dsts;
  std::vector<double> latency_s(num_ranks_, 0.0);
  for (uint32_t dst = 0; dst < num_ranks_; ++dst) {
    const uint64_t bytes = SendBytes(phase, rank, dst);
    if (bytes == 0) continue;
    dsts.push_back(dst);
    latency_s[dst] = LatencyS(phase, rank, dst, bytes);
  }
  std::stable_sort(dsts.begin(), dsts.end(),
                   [&](uint32_t a, uint32_t b) { return latency_s[a] < latency_s[b]; });
  double posted_s = ops_[phase][rank].start_s;
  std::vector<sg4::CommPtr> sends;
  std::vector<uint32_t> to;
  for (uint32_t dst : dsts) {
    if (latency_s[dst] > 0) sg4::this_actor::sleep_until(posted_s + latency_s[dst]);
    sends.push_back(mailboxes_[phase][dst]->put_async(
        &kPayload, platform_.transports.WireBytes(rank, dst, SendBytes(phase, rank, dst))));
    to.push_back(dst);
  }
  // One at a time, so each destination learns when its data arrived.
  while (!sends.empty()) {
    const ssize_t i = sg4::Comm::wait_any(sends);
    double& arrived = arrived_s_[phase][to[i]];
    arrived = std::max(arrived, sg4::Engine::get_clock());
    Arrived(phase, to[i]);
    sends.erase(sends.begin() + i);
    to.erase(to.begin() + i);
  }
  ops_[phase][rank].end_s = sg4::Engine::get_clock();
  SendsDone(rank, phase);
}

// W > 0: queues the destinations in pairwise order and starts
// min(W, destinations) slot actors that share the queue.
void Replay::SendWindowed(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  for (uint32_t k = 1; k < num_ranks_; ++k) {
    uint32_t dst = exec::PairwiseSendPeer(rank, k, num_ranks_);
    if (SendBytes(phase, rank, dst) > 0) op.dsts.push_back(dst);
  }
  if (SendBytes(phase, rank, rank) > 0) op.dsts.push_back(rank);  // self last (round n)
  op.live_slots = static_cast<uint32_t>(std::min<size_t>(max_inflight_, op.dsts.size()));
  for (uint32_t slot = 0; slot < op.live_slots; ++slot) {
    sg4::Actor::create(fmt::format("s{}-rank{}-send-p{}-w{}", tag_, rank, phase, slot),
                       platform_.ranks[rank], [this, rank, phase] { SendSlot(rank, phase); });
  }
}

// Body of one slot: takes the next destination (actors run one at a time,
// so the shared index needs no lock), waits its route latency, puts the
// cell and waits for it to arrive. The last slot to finish records the
// phase's end on this rank.
void Replay::SendSlot(uint32_t rank, uint32_t phase) {
  Op& op = ops_[phase][rank];
  while (op.next_dst < op.dsts.size()) {
    const uint32_t dst = op.dsts[op.next_dst++];
    const uint64_t bytes = SendBytes(phase, rank, dst);
    const double latency_s = LatencyS(phase, rank, dst, bytes);
    if (latency_s > 0) sg4::this_actor::sleep_for(latency_s);
    mailboxes_[phase][dst]->put(&kPayload, platform_.transports.WireBytes(rank, dst, bytes));
    double& arrived = arrived_s_[phase][dst];
    arrived = std::max(arrived, sg4::Engine::get_clock());
    Arrived(phase, dst);
  }
  if (--op.live_slots == 0) {
    op.end_s = sg4::Engine::get_clock();
    std::vector<uint32_t>().swap(op.dsts);
    SendsDone(rank, phase);
  }
}

Status Replay::CheckComplete() const {
  for (int p = 0; p < schedule_.phases_size(); ++p)
    for (uint32_t rank = 0; rank < num_ranks_; ++rank) {
      if (ops_[p][rank].done) continue;
      const proto::Phase& phase = schedule_.phases(p);
      return Status::BadInput(fmt::format(
          "the simulation stopped before phase {} ({} of layer {}) finished on rank {} (at "
          "simulated time {} s): no activity could advance, so some figure of the topology or "
          "model makes a transfer or a kernel take no progress (check them with epsim topo "
          "check); no result is reported",
          p, proto::PhaseKind_Name(phase.kind()), phase.layer(), rank,
          simgrid::s4u::Engine::get_clock() - start_s_));
    }
  return Status::Ok();
}

proto::Report Replay::Collect(const std::string& topology_name) const {
  exec::OpTimes times(static_cast<uint32_t>(schedule_.phases_size()), num_ranks_);
  for (int p = 0; p < schedule_.phases_size(); ++p) {
    for (uint32_t rank = 0; rank < num_ranks_; ++rank) {
      const Op& op = ops_[p][rank];
      const size_t i = times.Index(p, rank);
      times.start_s[i] = op.start_s - start_s_;
      times.end_s[i] = std::max(op.end_s, arrived_s_[p][rank]) - start_s_;
      times.bytes[i] = op.bytes;
    }
  }
  return exec::AssembleReport(schedule_, "simulated", topology_name, times);
}

}  // namespace epsim::engine
