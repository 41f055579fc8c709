// Per-expert selection counts from SGLang's expert-distribution CSV dumps,
// for `epsim synth --load` (format: sim/synth/FORMATS.md).
//
// SGLang's ExpertDistributionRecorder (v0.4.x, python/sglang/srt/managers/
// expert_distribution.py, before the recorder moved to srt/eplb/ and torch
// .pt dumps) writes one file per rank, `expert_distribution_rank{rank}_timestamp{t}.csv`:
//
//   layer_id,expert_id,count
//   3,0,24990
//   3,18,39249
//
// one row per (layer, expert) the rank's tokens picked at least once, in no
// particular order. A rank counts the tokens it routed, so a run's counts are
// the sum over its rank files. Counts are picks: a token adds one to each of
// its top-k experts.
#ifndef EPSIM_SIM_SYNTH_SGLANG_COUNTS_H_
#define EPSIM_SIM_SYNTH_SGLANG_COUNTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::synth {

inline constexpr char kSglangCountsHeader[] = "layer_id,expert_id,count";

// Counts summed over the files read. Every layer listed in any file has a
// vector of num_experts counts; experts no file lists there count 0.
struct ExpertCounts {
  std::map<uint32_t, std::vector<uint64_t>> per_layer;
  uint64_t total_picks = 0;  // sum over layers and experts
};

// Whether `path` is meant as an SGLang count CSV: its first byte that is not
// whitespace is not '{' (a JSON load file starts with an object). Says
// nothing of whether the file is well formed; unreadable files give false.
bool LooksLikeSglangCounts(const std::string& path);

// Reads and sums the files. Bad input, as "file:line: what": a header other
// than kSglangCountsHeader, a row without three comma-separated fields, a
// layer or expert id that is not a non-negative integer, expert id >=
// num_experts, a count that is not a non-negative integer, a (layer, expert)
// listed twice in one file, an empty line, a last line without its newline
// (SGLang ends every row with one: the file was cut), a sum past 2^64.
// Also bad input: no rows in any file. A missing file is NotFound.
Result<ExpertCounts> ReadSglangCounts(const std::vector<std::string>& paths, uint32_t num_experts);

}  // namespace epsim::synth

#endif  // EPSIM_SIM_SYNTH_SGLANG_COUNTS_H_
