// `epsim calibrate`: fits the named parameters (parameters.h) of a topology
// to measurements (measurements.h) by bounded least squares on relative
// error, (simulated - measured) / measured, over the training split, and
// reports every parameter and every measurement's error before and after,
// with MAPE and max error on the held-out split.
//
// Held-out rules (several combine; a measurement held out by any is held out):
//   sizes        every other size within each series (a sweep of one test,
//                or one strategy at one rank count over token counts):
//                the 2nd, 4th, ... distinct sizes;
//   ranks=N      every measurement of N ranks;
//   strategy=S   every measurement of strategy (or test) S;
//   none         nothing held out.
// Which parameters are fitted: those a training measurement responds to
// (a relative change of 1e-6 when the parameter moves by 10%), minus those
// named by `fix`, or only those named by `fit`, and minus those whose
// effect on the training measurements (the vector of relative changes) lies
// within the span of the earlier free parameters' effects (cosine to the
// span above 0.995): "same effect as" one of them, or "not separable from"
// several (bandwidth and two protocols' payload efficiencies, say); the
// order of ParametersOf decides which are fitted. PCIe bandwidth is kept at
// or below the fastest copy of any p2pBandwidthLatencyTest matrix given
// (MeasurementSet::pcie_ceilings), said in the notes. The others stay at their stock
// values and are reported as "not measured".
#ifndef EPSIM_SIM_CALIBRATE_CALIBRATION_H_
#define EPSIM_SIM_CALIBRATE_CALIBRATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/base/status.h"
#include "sim/calibrate/measurements.h"
#include "sim/engine/simulator.h"
#include "sim/proto/topology.pb.h"
#include "sim/report/calibration_output.h"

namespace epsim::calibrate {

struct HoldoutRule {
  enum class Kind { kNone, kEveryOtherSize, kRanks, kStrategy } kind = Kind::kEveryOtherSize;
  uint32_t num_ranks = 0;
  std::string strategy;
};
// "sizes", "ranks=N", "strategy=S", "none"; Usage otherwise.
Result<HoldoutRule> ParseHoldout(const std::string& text);
// One flag per observation: held out by any rule.
std::vector<bool> HeldOut(const std::vector<Observation>& obs,
                          const std::vector<HoldoutRule>& rules);

struct CalibrateOptions {
  std::vector<HoldoutRule> holdout;
  std::string holdout_text;          // the rules as given, for the report
  std::vector<std::string> fit;      // non-empty: fit only these
  std::vector<std::string> fix;      // never fit these
  engine::SimOptions sim;
  int max_iterations = 100;
};

struct Calibration {
  proto::Topology calibrated;  // named <stock>-calibrated, description extended
  report::CalibrationView view;
};

// `stock` is the validated topology loaded from `topology_file`.
Result<Calibration> Calibrate(const proto::Topology& stock, const std::string& topology_file,
                              const MeasurementSet& set, const CalibrateOptions& options);

}  // namespace epsim::calibrate

#endif  // EPSIM_SIM_CALIBRATE_CALIBRATION_H_
