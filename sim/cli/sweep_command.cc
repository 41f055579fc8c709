// epsim sweep: a grid of simulations (sim/sweep/grid.h), each job in a
// child process (SimGrid runs one Engine per process), -j at a time, into
// one tidy table (sim/report/sweep_output.h) that a later run resumes.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/calibrate/evaluate.h"
#include "sim/cli/commands.h"
#include "sim/cli/inputs.h"
#include "sim/cli/sweep_runner.h"
#include "sim/report/sweep_output.h"
#include "sim/sweep/grid.h"

namespace epsim::cli {
namespace {

struct SweepOptions {
  std::string file;
  std::array<std::string, sweep::kNumAxes> axes;  // comma lists from the flags
  std::string granularity = "auto";
  uint32_t jobs = std::max(1u, std::thread::hardware_concurrency());
  std::string output;
  std::string format = "console";
  std::vector<std::string> merge;
  bool no_resume = false;
  int64_t job = -1;
  bool emit_commands = false;
  std::string emit_slurm;
};

Result<sweep::Axes> AxesOf(const SweepOptions& opt) {
  sweep::Axes file, flags;
  if (!opt.file.empty()) {
    EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(opt.file));
    auto parsed = sweep::ParseSweepFile(text, opt.file);
    // A mistake in the file is bad input (exit 2); the same on a flag, usage (1).
    if (!parsed.ok()) return Status::BadInput(parsed.status().message());
    file = std::move(*parsed);
  }
  for (int i = 0; i < sweep::kNumAxes; ++i) {
    if (opt.axes[i].empty()) continue;
    const std::string flag = std::string("--") + sweep::kAxisKeys[i];
    sweep::Axes one;
    EPSIM_ASSIGN_OR_RETURN(one, sweep::ParseSweepFile(std::string(sweep::kAxisKeys[i]) + " = " +
                                                          opt.axes[i], flag));
    flags[i] = one[i];
    flags[i].where = flag;
  }
  return sweep::CompleteAxes(file, flags);
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-.,:/=+@%") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The sweep's own arguments (file, axes, engine settings): what each
// emitted command repeats.
std::string SweepArgs(const SweepOptions& opt) {
  std::string args = "sweep";
  if (!opt.file.empty()) args += " " + ShellQuote(opt.file);
  for (int i = 0; i < sweep::kNumAxes; ++i)
    if (!opt.axes[i].empty())
      args += fmt::format(" --{} {}", sweep::kAxisKeys[i], ShellQuote(opt.axes[i]));
  if (opt.granularity != "auto") args += " --granularity " + opt.granularity;
  return args;
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "epsim";
}

Status Emit(const SweepOptions& opt, size_t num_jobs) {
  const std::string epsim = ShellQuote(SelfPath()), args = SweepArgs(opt);
  if (opt.emit_commands) {
    for (size_t j = 0; j < num_jobs; ++j)
      std::cout << fmt::format("{} {} --job {} -o job-{}.csv\n", epsim, args, j, j);
    return Status::Ok();
  }
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("--emit-slurm", opt.emit_slurm,
                                                          OutputFile::Dash::kText));
  const std::string script = fmt::format(
      "#!/bin/bash\n"
      "# A Slurm job array: one epsim simulation (a sweep job) per task, written by\n"
      "#   epsim {args} --emit-slurm ...\n"
      "# Submit with `sbatch {name}`; then merge the parts into one table with\n"
      "#   {epsim} {args} --merge job-*.csv -o sweep.csv\n"
      "# (which runs any job whose part is missing).\n"
      "#SBATCH --job-name=epsim-sweep\n"
      "#SBATCH --array=0-{last}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output=job-%a.log\n"
      "set -euo pipefail\n"
      "exec {epsim} {args} --job \"$SLURM_ARRAY_TASK_ID\" -o \"job-$SLURM_ARRAY_TASK_ID.csv\"\n",
      fmt::arg("args", args), fmt::arg("epsim", epsim), fmt::arg("name", opt.emit_slurm),
      fmt::arg("last", num_jobs - 1));
  EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out.path(), script));
  EPSIM_RETURN_IF_ERROR(out.Finish());
  std::cerr << fmt::format("epsim: wrote a job array of {} tasks to {}\n", num_jobs, out.label());
  return Status::Ok();
}

Status Run(const SweepOptions& opt, const std::vector<std::string>& simgrid_args) {
  const auto start = std::chrono::steady_clock::now();
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  EPSIM_ASSIGN_OR_RETURN(sweep::Axes axes, AxesOf(opt));
  std::vector<std::string> skipped;
  EPSIM_ASSIGN_OR_RETURN(std::vector<sweep::Point> points, sweep::ExpandGrid(axes, &skipped));
  for (const std::string& s : skipped)
    std::cerr << "epsim: note: left out " << s << ": more ranks than GPUs\n";
  std::vector<sweep::Job> jobs = sweep::JobsOf(points);
  if (opt.job >= 0 && static_cast<size_t>(opt.job) >= jobs.size())
    return Status::Usage(fmt::format("--job {}: the sweep has jobs 0..{}", opt.job, jobs.size() - 1));
  if (opt.emit_commands || !opt.emit_slurm.empty()) return Emit(opt, jobs.size());
  if (opt.job >= 0) {
    const sweep::Job one = jobs[static_cast<size_t>(opt.job)];
    points.assign(points.begin() + static_cast<long>(one.begin), points.begin() + static_cast<long>(one.end));
    jobs = {{0, points.size()}};
  }
  EPSIM_ASSIGN_OR_RETURN(engine::SimOptions sim, SimOptionsOf(NetworkFlags{-1, "", opt.granularity},
                                                              simgrid_args));
  SweepRunner runner(std::move(points), std::move(jobs), sim, opt.jobs);
  EPSIM_RETURN_IF_ERROR(runner.OpenOutput(opt.output, !opt.no_resume, opt.merge));
  const Status status = runner.Run();
  const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - start;
  std::cerr << fmt::format("epsim: {} in {:.2f} s wall time (-j {})\n", runner.Summary(),
                           wall.count(), opt.jobs);
  EPSIM_RETURN_IF_ERROR(status);
  runner.WriteStdout(std::cout, format);
  return Status::Ok();
}

}  // namespace

Runner AddSweepCommand(CLI::App& app, const std::vector<std::string>* simgrid_args) {
  auto opt = std::make_shared<SweepOptions>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Simulate a grid of what-ifs (models, traces, topologies, EP, strategies, ...) "
               "into one table");
  cmd->add_option("file", opt->file, "Sweep file: one 'key = value, value' line per axis "
                                     "(keys as the flags below)");
  static const std::array<const char*, sweep::kNumAxes> kHelp = {
      "Models (names in models/ or files); default olmoe-1b-7b",
      "Trace files, or 'synthetic' (generated routing; the default)",
      "Tokens of the synthetic trace (the batch of a decode pass); default 16384",
      "Seeds of the synthetic trace; default 1",
      "Topologies (names in topologies/ or files, calibrated ones too); default a6000-x4-pcie-gen4",
      "EP sizes; 0 = every GPU of the topology (default); more than it has: left out",
      "Placements, as simulate --placement; default contiguous",
      "Dispatch strategies; default classical",
      "Passes: prefill (default), decode, train",
      "Overlaps: none (default), shared-expert, scmoe, micro-batches",
      "Decode KV-cache tokens per sequence; default 0",
      "P2P between a host's GPUs: default (the topology's), on, off, auto"};
  for (int i = 0; i < sweep::kNumAxes; ++i)
    cmd->add_option(std::string("--") + sweep::kAxisKeys[i], opt->axes[i],
                    std::string(kHelp[i]) + " (comma-separated; replaces the file's line)");
  cmd->add_option("--granularity", opt->granularity, "pair|phase|auto, as simulate --granularity")
      ->check(CLI::IsMember({"pair", "phase", "auto"}))
      ->capture_default_str();
  cmd->add_option("-j,--jobs", opt->jobs, "Simulations at once (child processes)")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  cmd->add_option("-o,--output", opt->output,
                  "Table to write (.json: json, else csv), rewritten as points finish; points "
                  "it already holds are not run again");
  cmd->add_flag("--no-resume", opt->no_resume, "Run every point even if -o holds it");
  cmd->add_option("--merge", opt->merge,
                  "Tables of earlier runs (e.g. a job array's parts) whose points count as done")
      ->expected(1, -1);
  cmd->add_option("--format", opt->format, "Output on stdout: console, csv or json")
      ->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->add_option("--job", opt->job, "Run only job N of the grid (0-based; a job array task)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_flag("--emit-commands", opt->emit_commands,
                "Print one command per job (for GNU parallel or any scheduler) and run nothing");
  cmd->add_option("--emit-slurm", opt->emit_slurm,
                  "Write a Slurm job array script, one task per job, and run nothing");
  cmd->footer(
      "A job is the points that differ only in their dispatch strategy: they share one trace,\n"
      "placement and simulation. Without a terminal, one line per finished job goes to stderr.\n"
      "SimGrid flags (--cfg=..., --log=...) pass through to every simulation.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
