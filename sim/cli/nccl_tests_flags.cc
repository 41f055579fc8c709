#include "sim/cli/nccl_tests_flags.h"

#include <fmt/format.h>

#include <algorithm>

namespace epsim::cli {
namespace {

// An nccl-tests flag that tunes what the simulator does not model.
struct IgnoredFlag {
  char name;
  const char* long_name;
  const char* help;  // nccl-tests' argument
  const char* why;   // the note
};

constexpr IgnoredFlag kIgnored[] = {
    {'p', "parallel_init", "<0/1>", "no NCCL communicators to initialise"},
    {'r', "root", "<root>", "no rooted collective is simulated (root column -1)"},
    {'z', "blocking", "<0/1/2/3>", "no host threads or barriers are simulated"},
    {'y', "stream_null", "<0/1>", "no CUDA streams are simulated"},
    {'T', "timeout", "<seconds>", "a simulation cannot hang"},
    {'G', "cudagraph", "<launches>", "no CUDA graphs: launch overhead is not modelled"},
    {'C', "report_cputime", "<0/1>", "no CPU time in a simulation; time is simulated time"},
    {'S', "report_timestamps", "<0/1>", "output is deterministic: no wall-clock timestamps"},
    {'J', "output_file", "<file>", "use --format json (on stdout)"},
    {'R', "local_register", "<0/1/2>", "buffer registration is not modelled"},
    {'x', "cta_policy", "<0/1/2>", "CTAs are not modelled"},
    {'D', "device_implementation", "<n>", "only NCCL's host-launched path is modelled"},
    {'V', "device_cta_count", "<n>", "CTAs are not modelled"},
    {'M', "memory", "<0/1>", "no device memory is allocated"},
    {'u', "unalign", "<index>", "buffer alignment is not modelled"},
    {'I', "per_iter_timing", "<0/1>", "every iteration takes the same simulated time"},
    {'K', "per_iter_skip", "<count>", "every iteration takes the same simulated time"},
};

constexpr const char* kDeterministic =
    "accepted, no effect: a simulation is deterministic, every iteration takes the same time";

template <typename T>
void Add(CLI::App* cmd, NcclTestsFlags* f, char name, const std::string& names, T* value,
         const std::string& help, T lo, T hi) {
  CLI::Option* o = cmd->add_option(names, *value, help)->check(CLI::Range(lo, hi));
  o->capture_default_str()->group("nccl-tests flags");
  f->options.push_back({name, o});
}

}  // namespace

void AddNcclTestsFlags(CLI::App* cmd, NcclTestsFlags* f) {
  Add<uint32_t>(cmd, f, 't', "-t,--nthreads", &f->threads,
                "Threads per process, each driving -g GPUs: ranks = --np x -t x -g", 1, 4096);
  CLI::Option* d = cmd->add_option("-d,--datatype", f->datatype,
                                   "Element type, nccl-tests' names (int8 uint8 int32 uint32 "
                                   "int64 uint64 half float double bfloat16 f8e4m3 f8e5m2): "
                                   "sets the count column and whole-element rounding")
                       ->capture_default_str()
                       ->group("nccl-tests flags");
  f->options.push_back({'d', d});
  CLI::Option* o = cmd->add_option("-o,--op", f->redop,
                                   "Reduction of allreduce / reducescatter: the redop column "
                                   "(the reduction is not charged)")
                       ->check(CLI::IsMember({"sum", "prod", "min", "max", "avg", "mulsum"}))
                       ->capture_default_str()
                       ->group("nccl-tests flags");
  f->options.push_back({'o', o});
  Add<uint32_t>(cmd, f, 'n', "-n,--iters", &f->iters, "Iterations (no effect)", 0, 1u << 30);
  Add<uint32_t>(cmd, f, 'w', "-w,--warmup_iters", &f->warmup_iters, "Warm-up iterations (no effect)",
                0, 1u << 30);
  Add<uint32_t>(cmd, f, 'm', "-m,--agg_iters", &f->agg_iters, "Aggregated iterations (no effect)",
                1, 1u << 30);
  Add<uint32_t>(cmd, f, 'N', "-N,--run_cycles", &f->run_cycles,
                "Cycles (one is printed: every cycle is the same)", 0, 1u << 30);
  Add<uint32_t>(cmd, f, 'c', "-c,--check", &f->check, "Check iterations (nothing to verify)", 0,
                1u << 30);
  Add<uint32_t>(cmd, f, 'a', "-a,--average", &f->average,
                "0 rank 0, 1 mean, 2 min, 3 max over ranks (time is always the max)", 0, 3);
  for (const IgnoredFlag& flag : kIgnored) {
    CLI::Option* opt = cmd->add_option(fmt::format("-{},--{}", flag.name, flag.long_name),
                                       f->ignored[flag.name],
                                       fmt::format("{} ignored: {}", flag.help, flag.why))
                           ->group("nccl-tests flags (ignored)");
    f->options.push_back({flag.name, opt});
  }
}

bool Given(const NcclTestsFlags& f, char name) {
  for (const auto& [n, option] : f.options)
    if (n == name) return option->count() > 0;
  return false;
}

std::vector<std::string> Notes(const NcclTestsFlags& f) {
  std::vector<std::string> notes;
  auto note = [&](char name, const std::string& value, const std::string& why) {
    if (Given(f, name)) notes.push_back(fmt::format("-{} {}: {}", name, value, why));
  };
  note('n', std::to_string(f.iters), kDeterministic);
  note('w', std::to_string(f.warmup_iters), kDeterministic);
  note('m', std::to_string(f.agg_iters), kDeterministic);
  note('N', std::to_string(f.run_cycles),
       "accepted, one cycle printed: a simulation is deterministic, every cycle is the same");
  note('c', std::to_string(f.check),
       "accepted, nothing checked: a simulation moves no data (#wrong N/A, validation: 0)");
  note('a', std::to_string(f.average),
       "accepted, no effect: time is the collective's, from the first send to the last "
       "arrival (the max over ranks, as -a 3)");
  for (const IgnoredFlag& flag : kIgnored)
    note(flag.name, f.ignored.at(flag.name), std::string("ignored: ") + flag.why);
  return notes;
}

}  // namespace epsim::cli
