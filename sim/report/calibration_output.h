// What `epsim calibrate` prints and writes: each parameter before and after
// with its standard error, each measurement's error before and after, MAPE
// and max error on the fitted and the held-out measurements (overall, per
// kind of measurement), and the calibrated topology with its provenance in
// comments. error = (simulated - measured) / measured; MAPE = mean |error|.
// Deterministic: no clock time anywhere.
#ifndef EPSIM_SIM_REPORT_CALIBRATION_OUTPUT_H_
#define EPSIM_SIM_REPORT_CALIBRATION_OUTPUT_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/topology.pb.h"

namespace epsim::report {

struct CalibrationParameter {
  std::string name, unit, meaning;
  double before = 0, after = 0;
  double sigma = 0;    // standard error of `after`; NaN when not determined
  std::string state;   // "fitted", "at bound", "not measured", "fixed"
};

struct CalibrationPoint {
  std::string file, where, kind;
  bool held_out = false;
  bool fitted = true;  // false: reported only (a run's pass time)
  double measured_s = 0, before_s = 0, after_s = 0;
};

struct CalibrationView {
  std::string topology_file;   // as named
  std::string topology_name;   // the stock name
  std::string calibrated_name;
  std::string holdout;         // the rules, as given
  std::vector<std::pair<std::string, std::string>> inputs;  // file, sha256
  std::vector<CalibrationParameter> parameters;
  std::vector<CalibrationPoint> points;
  std::string solver;          // the solver's summary line
  std::vector<std::string> notes;  // what the fit could not do, and why
};

// Mean and max of |error| over a subset of points.
struct ErrorStats {
  size_t count = 0;
  double mape = 0, max_abs = 0;  // fractions (0.05 = 5%)
};
ErrorStats StatsOf(const std::vector<CalibrationPoint>& points, bool held_out, bool after,
                   const std::string& kind = "");

// The console report.
void WriteCalibration(std::ostream& out, const CalibrationView& view);
// One row per point: file, where, kind, split, measured_us, before_us,
// after_us, before_error, after_error (the PNG script's input).
void WriteCalibrationCsv(std::ostream& out, const CalibrationView& view);
// The calibrated topology as a textproto whose header comments carry the
// provenance: stock file and name, input hashes, parameters, errors.
std::string CalibratedTopologyText(const CalibrationView& view, const proto::Topology& calibrated);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_CALIBRATION_OUTPUT_H_
