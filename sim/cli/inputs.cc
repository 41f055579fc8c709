#include "sim/cli/inputs.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/topology/transport.h"

namespace epsim::cli {
Result<SimulatedRun> SimulateRun(const std::string& command, const InputLines& extra_inputs,
                                 const RunInputs& in, const ProfileCache& profiles,
                                 const std::vector<proto::Schedule>& schedules,
                                 const engine::SimOptions& sim_options) {
  SimulatedRun run;
  EPSIM_ASSIGN_OR_RETURN(run.result, engine::Simulate(in.topology, schedules, sim_options));
  run.info.command = command;
  run.info.inputs = DescribeInputs(in);
  run.info.inputs.insert(run.info.inputs.end(), extra_inputs.begin(), extra_inputs.end());
  if (!profiles.description().empty())
    run.info.inputs.push_back({"profiles", profiles.description()});
  run.info.settings = run.result.settings;
  return run;
}

std::vector<std::string> RunNotes(const RunInputs& in,
                                  const std::vector<const dispatch::Strategy*>& strategies,
                                  const std::string& flag,
                                  const std::vector<std::string>& repeated) {
  std::vector<std::string> notes;
  if (flag == "--dispatch" && in.trace.header.num_steps() > 1) {
    uint64_t rows = 0;
    for (const auto& layer : in.trace.layers) rows = std::max<uint64_t>(rows, layer.num_tokens());
    notes.push_back(fmt::format(
        "the trace holds {} forward steps: this pass replays every step of a layer together, "
        "as one batch of up to {} tokens (step-by-step replay is decode's, not this pass's)",
        in.trace.header.num_steps(), rows));
  }
  for (const dispatch::Strategy* s : strategies) {
    std::string reason = s->NoEffectReason(in.cluster, in.trace.header.num_topk());
    if (!reason.empty()) notes.push_back(std::move(reason));
    std::string model_note = s->ModelNote();
    if (!model_note.empty()) notes.push_back(std::move(model_note));
  }
  for (const std::string& name : repeated)
    notes.push_back(fmt::format("{} lists {} more than once: run once", flag, name));
  return notes;
}

void AddNetworkFlags(CLI::App* cmd, NetworkFlags* flags) {
  cmd->add_option("--max-inflight", flags->max_inflight,
                  "All-to-all transfers in flight per rank (NCCL-like window; pairwise order, "
                  "round k to (r+k) mod n); 0 = unlimited. Default: the topology's "
                  "nccl.max_peers_in_flight (8 unless the file says)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--p2p", flags->p2p,
                  "on|off|auto: peer-to-peer between GPUs of a host, like NCCL_P2P_LEVEL=SYS "
                  "(on) or NCCL_P2P_DISABLE=1 (off, host shared memory); auto = NCCL's rule. "
                  "Default: the topology's nccl.p2p (auto)")
      ->check(CLI::IsMember({"on", "off", "auto"}));
  cmd->add_option("--granularity", flags->granularity,
                  "pair|phase|auto: simulate all-to-alls as one transfer per GPU pair, or one "
                  "parallel task per phase (fluid optimum, for large EP); auto = pair up to 16 "
                  "ranks")
      ->check(CLI::IsMember({"pair", "phase", "auto"}))
      ->capture_default_str();
  cmd->add_option("--closed-form", flags->closed_form,
                  "on|off: per phase, an all-to-all that no other one can overlap ends when its "
                  "most loaded link drains, computed without SimGrid (the same time); off: "
                  "SimGrid solves every phase task")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
}

Result<engine::SimOptions> SimOptionsOf(const NetworkFlags& flags,
                                        const std::vector<std::string>& simgrid_args) {
  engine::SimOptions opt;
  opt.simgrid_args = simgrid_args;
  if (flags.max_inflight >= 0) opt.max_inflight = static_cast<uint32_t>(flags.max_inflight);
  if (!flags.p2p.empty()) {
    EPSIM_ASSIGN_OR_RETURN(opt.p2p, topology::ParseP2pPolicy(flags.p2p));
  }
  EPSIM_ASSIGN_OR_RETURN(opt.granularity, engine::ParseGranularity(flags.granularity));
  opt.closed_form = flags.closed_form != "off";
  return opt;
}

}  // namespace epsim::cli
