#include "sim/cli/sweep_runner.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include <fmt/format.h>

#include "sim/base/child_process.h"
#include "sim/base/file_util.h"
#include "sim/calibrate/evaluate.h"
#include "sim/cli/inputs.h"
#include "sim/dispatch/strategy.h"
#include "sim/topology/transport.h"
#include "sim/trace/progress.h"

namespace epsim::cli {
namespace {

double NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

SweepRunner::SweepRunner(std::vector<sweep::Point> points, std::vector<sweep::Job> jobs,
                         engine::SimOptions sim, uint32_t parallel)
    : points_(std::move(points)), jobs_(std::move(jobs)), sim_(std::move(sim)),
      parallel_(std::max(1u, parallel)) {}

Status SweepRunner::ReadTable(const std::string& path, bool is_output) {
  if (!is_output) EPSIM_RETURN_IF_ERROR(CheckInputPath(path));
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  EPSIM_ASSIGN_OR_RETURN(std::vector<report::SweepRow> rows, report::ParseSweepTable(text, path));
  std::set<std::string> grid;
  for (const sweep::Point& p : points_) grid.insert(sweep::PointKey(p.columns));
  std::map<std::string, std::vector<report::SweepRow>> read;
  std::vector<std::string> order;
  for (report::SweepRow& r : rows) {
    const std::string key = sweep::PointKey(r.inputs);
    if (!read.count(key)) order.push_back(key);
    read[key].push_back(std::move(r));
  }
  size_t reused = 0;
  for (const std::string& key : order) {
    if (done_.count(key)) continue;  // the first table that has a point gives its rows
    const bool in_grid = grid.count(key) > 0;
    if (std::none_of(read[key].begin(), read[key].end(),
                     [](const report::SweepRow& r) { return r.phase == "total"; }))
      return Status::BadInput(path + ": a point without its total row (" +
                              read[key].front().inputs[4] + ", " + read[key].front().inputs[8] +
                              "): not a table epsim sweep wrote");
    done_[key] = std::move(read[key]);
    if (in_grid) ++reused;
    else foreign_.push_back(key);
  }
  if (reused > 0) {
    reused_ += reused;
    reused_from_ += (reused_from_.empty() ? "" : ", ") + path;
  }
  return Status::Ok();
}

Status SweepRunner::OpenOutput(const std::string& path, bool resume,
                               const std::vector<std::string>& merge) {
  std::error_code ec;
  if (resume && !path.empty() && std::filesystem::is_regular_file(path, ec)) {
    // The output read back, before it is opened as one: its rows are kept
    // and written again.
    EPSIM_RETURN_IF_ERROR(ReadTable(path, true));
  }
  if (!path.empty()) {
    EPSIM_ASSIGN_OR_RETURN(output_, OutputFile::Open("-o", path, OutputFile::Dash::kRefuse));
  }
  for (const std::string& m : merge) {
    if (!path.empty() && std::filesystem::exists(m, ec) && std::filesystem::exists(path, ec) &&
        std::filesystem::equivalent(m, path, ec))
      continue;  // the output itself, read above (or not, with --no-resume)
    EPSIM_RETURN_IF_ERROR(ReadTable(m, false).WithContext("--merge"));
  }
  return Status::Ok();
}

std::vector<SweepRunner::Pending> SweepRunner::PendingJobs() const {
  std::vector<Pending> pending;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    Pending p{j, {}};
    for (size_t i = jobs_[j].begin; i < jobs_[j].end; ++i)
      if (!done_.count(sweep::PointKey(points_[i].columns))) p.points.push_back(i);
    if (!p.points.empty()) pending.push_back(std::move(p));
  }
  return pending;
}

// In the child process: load, place and plan once, simulate each point's
// strategy, and send the reports back.
Result<std::string> SweepRunner::Simulate(const Pending& p) const {
  const sweep::Point& first = points_[p.points.front()];
  engine::SimOptions sim = sim_;
  if (!first.p2p.empty()) {
    EPSIM_ASSIGN_OR_RETURN(proto::P2pPolicy policy, topology::ParseP2pPolicy(first.p2p));
    sim.p2p = policy;
  }
  EPSIM_ASSIGN_OR_RETURN(RunInputs in, LoadRunInputs(first.flags));
  EPSIM_ASSIGN_OR_RETURN(const placement::LayerPlacements placements,
                         PlacementFor(first.flags, in, first.placement));
  ProfileCache profiles(first.flags, in);
  std::vector<proto::Schedule> schedules;
  for (size_t i : p.points) {
    EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(points_[i].dispatch));
    EPSIM_ASSIGN_OR_RETURN(proto::Schedule s, PlanFor(in, placements, *strategy, &profiles));
    schedules.push_back(std::move(s));
  }
  EPSIM_ASSIGN_OR_RETURN(engine::SimResult result, engine::Simulate(in.topology, schedules, sim));
  return calibrate::EncodeReports(result.reports);
}

Status SweepRunner::Collect(const Pending& p, Result<std::string> message) {
  if (!message.ok()) return message.status().WithContext(Describe(p.points.front()));
  EPSIM_ASSIGN_OR_RETURN(std::vector<proto::Report> reports, calibrate::DecodeReports(*message));
  if (reports.size() != p.points.size())
    return Status::Internal(fmt::format("{}: {} reports for {} strategies",
                                        Describe(p.points.front()), reports.size(), p.points.size()));
  for (size_t k = 0; k < p.points.size(); ++k) {
    const sweep::Point& point = points_[p.points[k]];
    done_[sweep::PointKey(point.columns)] = report::SweepRowsOf(point.columns, reports[k]);
    ++simulated_;
  }
  ++simulations_;
  return WriteOutput();
}

std::vector<report::SweepRow> SweepRunner::Table() const {
  std::vector<report::SweepRow> rows;
  auto append = [&](const std::string& key) {
    auto it = done_.find(key);
    if (it != done_.end()) rows.insert(rows.end(), it->second.begin(), it->second.end());
  };
  for (const sweep::Point& p : points_) append(sweep::PointKey(p.columns));
  for (const std::string& key : foreign_) append(key);
  report::FillSpeedups(&rows);
  return rows;
}

Status SweepRunner::WriteOutput() const {
  if (!output_.given()) return Status::Ok();
  const std::vector<report::SweepRow> rows = Table();
  const bool json = EndsWith(output_.label(), ".json");
  return WriteFileAtomically(output_.path(), json ? report::SweepJson(rows) : report::SweepCsv(rows))
      .WithContext("-o " + output_.label());
}

std::string SweepRunner::Describe(size_t point) const {
  const std::vector<std::string>& c = points_[point].columns;
  std::string d = c[0].empty() ? "trace " + c[1] : c[0];
  if (!c[1].empty() && !c[0].empty()) d += ", trace " + c[1];
  if (!c[2].empty()) d += ", " + c[2] + " tokens";
  d += fmt::format(", {}, ep {}, {}", c[4], c[6], c[7]);
  if (c[9] != "prefill") d += ", " + c[9];
  if (c[10] != "none") d += ", overlap " + c[10];
  if (!c[12].empty()) d += ", p2p " + c[12];
  return "point (" + d + ")";
}

void SweepRunner::Progress(size_t running, const std::string& finished) const {
  const size_t total = points_.size();
  const size_t done = simulated_ + reused_;
  const double elapsed = NowS() - start_s_;
  // A bar where progress bars are wanted (a terminal; EPSIM_PROGRESS=1), a
  // line per finished job in logs (stderr not a terminal), else nothing.
  if (trace::ProgressWanted()) {
    constexpr int kWidth = 30;
    const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
    std::cerr << fmt::format("\r[{}{}] {}/{} points, {} running, {:.1f} s", std::string(filled, '#'),
                             std::string(kWidth - filled, '.'), done, total, running, elapsed)
              << std::flush;
    if (done == total && running == 0) std::cerr << "\n";
  } else if (!finished.empty() && isatty(STDERR_FILENO) != 1) {
    std::cerr << fmt::format("epsim: [{}/{}] {:.1f} s: {}\n", done, total, elapsed, finished);
  }
}

Status SweepRunner::Run() {
  start_s_ = NowS();
  const std::vector<Pending> pending = PendingJobs();
  struct Running {
    const Pending* job;
    Child child;
  };
  std::vector<Running> running;
  Status failure = Status::Ok();
  size_t next = 0;
  if (!pending.empty()) Progress(0, "");
  while (next < pending.size() || !running.empty()) {
    while (failure.ok() && next < pending.size() && running.size() < parallel_) {
      const Pending* job = &pending[next++];
      auto child = Child::Start([this, job]() { return Simulate(*job); });
      if (!child.ok()) {
        failure = child.status();
        break;
      }
      running.push_back({job, std::move(*child)});
    }
    if (!failure.ok()) next = pending.size();  // start nothing more; finish what runs
    if (running.empty()) break;
    std::vector<pollfd> fds;
    for (const Running& r : running) fds.push_back({r.child.fd(), POLLIN, 0});
    // With a bar, wake every 0.2 s to redraw its clock.
    const bool bar = trace::ProgressWanted();
    const int ready = poll(fds.data(), fds.size(), bar ? 200 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Status::Internal(std::string("poll: ") + std::strerror(errno));
    }
    if (ready == 0) {
      Progress(running.size(), "");
      continue;
    }
    for (size_t i = running.size(); i-- > 0;) {
      if (fds[i].revents == 0 || !running[i].child.ReadSome()) continue;
      const Pending* job = running[i].job;
      Result<std::string> message = running[i].child.Finish();
      running.erase(running.begin() + static_cast<long>(i));
      const Status st = Collect(*job, std::move(message));
      if (!st.ok() && failure.ok()) failure = st;
      std::string names;
      for (size_t k : job->points) names += (names.empty() ? "" : ",") + points_[k].dispatch;
      Progress(running.size(), Describe(job->points.front()) + " " + names +
                                   (st.ok() ? "" : ": failed"));
    }
  }
  if (trace::ProgressWanted() && !pending.empty() && simulated_ + reused_ < points_.size())
    std::cerr << "\n";
  if (failure.ok()) {
    const Status st = WriteOutput();  // also a fully resumed table, rewritten in grid order
    if (!st.ok()) return st;
  }
  if (output_.given()) EPSIM_RETURN_IF_ERROR(output_.Finish());
  return failure;
}

std::string SweepRunner::Summary() const {
  std::string s = fmt::format("{} points: {} simulated in {} simulations", points_.size(),
                              simulated_, simulations_);
  if (reused_ > 0) s += fmt::format(", {} from {}", reused_, reused_from_);
  return s;
}

void SweepRunner::WriteStdout(std::ostream& out, report::Format format) const {
  const std::vector<report::SweepRow> rows = Table();
  switch (format) {
    case report::Format::kCsv: out << report::SweepCsv(rows); break;
    case report::Format::kJson: out << report::SweepJson(rows); break;
    case report::Format::kConsole: report::WriteSweepConsole(out, rows); break;
  }
}

}  // namespace epsim::cli
