// Runs a sweep's jobs (sim/sweep/grid.h) in child processes, at most
// `parallel` at once, and keeps its table: the rows of an earlier run of
// the output (resume) and of --merge tables count as done, and the output
// is rewritten atomically after every finished job, so an interrupted sweep
// leaves a whole table of the points it finished. Rows are in grid order
// (then rows of points not in this grid, as read), so the table does not
// depend on the order jobs finish in.
#ifndef EPSIM_SIM_CLI_SWEEP_RUNNER_H_
#define EPSIM_SIM_CLI_SWEEP_RUNNER_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "sim/base/output_file.h"
#include "sim/base/status.h"
#include "sim/engine/simulator.h"
#include "sim/report/report.h"
#include "sim/report/sweep_output.h"
#include "sim/sweep/grid.h"

namespace epsim::cli {

class SweepRunner {
 public:
  SweepRunner(std::vector<sweep::Point> points, std::vector<sweep::Job> jobs,
              engine::SimOptions sim, uint32_t parallel);

  // Checks -o (empty: none) and reads it back when `resume` and it exists,
  // and each --merge table.
  Status OpenOutput(const std::string& path, bool resume, const std::vector<std::string>& merge);
  // Simulates every point not done. On a failed job, lets the running ones
  // finish, writes the table and returns the error naming the point.
  Status Run();
  // "18 points: 12 simulated in 4 jobs, 6 from out.csv"
  std::string Summary() const;
  void WriteStdout(std::ostream& out, report::Format format) const;

 private:
  struct Pending {
    size_t job = 0;
    std::vector<size_t> points;  // not done yet, one report each
  };
  Status ReadTable(const std::string& path, bool is_output);
  std::vector<Pending> PendingJobs() const;
  Result<std::string> Simulate(const Pending& p) const;  // in the child
  Status Collect(const Pending& p, Result<std::string> message);
  std::vector<report::SweepRow> Table() const;
  Status WriteOutput() const;
  void Progress(size_t running, const std::string& finished) const;
  std::string Describe(size_t point) const;

  std::vector<sweep::Point> points_;
  std::vector<sweep::Job> jobs_;
  engine::SimOptions sim_;
  uint32_t parallel_;
  OutputFile output_;
  std::map<std::string, std::vector<report::SweepRow>> done_;  // by point key
  std::vector<std::string> foreign_;  // keys of rows read that are not in the grid, as read
  size_t reused_ = 0, simulated_ = 0, simulations_ = 0;
  std::string reused_from_;
  double start_s_ = 0;
};

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_SWEEP_RUNNER_H_
