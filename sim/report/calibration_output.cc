#include "sim/report/calibration_output.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "sim/report/version.h"

namespace epsim::report {
namespace {

double ErrorOf(const CalibrationPoint& p, bool after) {
  return ((after ? p.after_s : p.before_s) - p.measured_s) / p.measured_s;
}

std::string Pct(double fraction) { return fmt::format("{:+.1f}%", 100 * fraction); }

std::string Value(double v) {
  if (!std::isfinite(v)) return "n/a";
  return fmt::format("{:.6g}", v);
}

// Kinds in first-seen order.
std::vector<std::string> KindsOf(const std::vector<CalibrationPoint>& points) {
  std::vector<std::string> kinds;
  std::set<std::string> seen;
  for (const CalibrationPoint& p : points)
    if (seen.insert(p.kind).second) kinds.push_back(p.kind);
  return kinds;
}

void WriteStatsLine(std::ostream& out, const std::vector<CalibrationPoint>& points,
                    const std::string& label, const std::string& kind) {
  for (bool held_out : {false, true}) {
    const ErrorStats before = StatsOf(points, held_out, false, kind);
    const ErrorStats after = StatsOf(points, held_out, true, kind);
    if (before.count == 0) continue;
    out << fmt::format("  {:<18} {:<9} {:>5}  {:>8.1f}% {:>8.1f}%   {:>8.1f}% {:>8.1f}%\n", label,
                       held_out ? "held out" : "training", before.count, 100 * before.mape,
                       100 * before.max_abs, 100 * after.mape, 100 * after.max_abs);
  }
}

}  // namespace

ErrorStats StatsOf(const std::vector<CalibrationPoint>& points, bool held_out, bool after,
                   const std::string& kind) {
  ErrorStats s;
  double sum = 0;
  for (const CalibrationPoint& p : points) {
    if (p.held_out != held_out || (!kind.empty() && p.kind != kind)) continue;
    const double e = std::fabs(ErrorOf(p, after));
    sum += e;
    s.max_abs = std::max(s.max_abs, e);
    ++s.count;
  }
  s.mape = s.count > 0 ? sum / static_cast<double>(s.count) : 0;
  return s;
}

void WriteCalibration(std::ostream& out, const CalibrationView& view) {
  out << fmt::format("# epsim {} calibrate {} (topology {})\n", kEpsimVersion,
                     view.topology_file, view.topology_name);
  out << "# Inputs (SHA-256):\n";
  for (const auto& [file, sha] : view.inputs) out << fmt::format("#   {}  {}\n", sha, file);
  out << fmt::format("# Held out: {}\n", view.holdout);
  out << fmt::format("# Solver: {}\n", view.solver);
  out << "# error = (simulated - measured) / measured; MAPE = mean |error|\n";
  for (const std::string& note : view.notes) out << "# note: " << note << "\n";
  out << "\nParameters\n";
  out << fmt::format("  {:<34} {:>14} {:>14} {:>12}  {:<7} {}\n", "name", "before", "after",
                     "+-1 sigma", "unit", "state");
  for (const CalibrationParameter& p : view.parameters) {
    out << fmt::format("  {:<34} {:>14} {:>14} {:>12}  {:<7} {}\n", p.name, Value(p.before),
                       Value(p.after), p.state == "fitted" || p.state == "at bound"
                                           ? Value(p.sigma) : "",
                       p.unit.empty() ? "-" : p.unit, p.state);
  }
  out << "\nMeasurements (time in us)\n";
  out << fmt::format("  {:<9} {:<16} {:<44} {:>12} {:>12} {:>9} {:>12} {:>9}\n", "split", "kind",
                     "where", "measured", "before", "error", "after", "error");
  for (const CalibrationPoint& p : view.points) {
    out << fmt::format("  {:<9} {:<16} {:<44} {:>12.2f} {:>12.2f} {:>9} {:>12.2f} {:>9}\n",
                       p.held_out ? "held out" : "training", p.kind,
                       p.where, p.measured_s * 1e6, p.before_s * 1e6, Pct(ErrorOf(p, false)),
                       p.after_s * 1e6, Pct(ErrorOf(p, true)));
  }
  out << "\nErrors                                 before calibration   after calibration\n";
  out << fmt::format("  {:<18} {:<9} {:>5}  {:>9} {:>9}   {:>9} {:>9}\n", "kind", "split", "count",
                     "MAPE", "max", "MAPE", "max");
  WriteStatsLine(out, view.points, "all", "");
  for (const std::string& kind : KindsOf(view.points)) WriteStatsLine(out, view.points, kind, kind);
}

void WriteCalibrationCsv(std::ostream& out, const CalibrationView& view) {
  out << "file,where,kind,split,measured_us,before_us,after_us,before_error,after_error\n";
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (const CalibrationPoint& p : view.points) {
    out << fmt::format("{},{},{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f}\n", quoted(p.file),
                       quoted(p.where), quoted(p.kind),
                       p.held_out ? "held out" : "training",
                       p.measured_s * 1e6, p.before_s * 1e6, p.after_s * 1e6,
                       ErrorOf(p, false), ErrorOf(p, true));
  }
}

std::string CalibratedTopologyText(const CalibrationView& view, const proto::Topology& calibrated) {
  std::ostringstream out;
  out << "# proto-file: sim/proto/topology.proto\n# proto-message: epsim.proto.Topology\n#\n";
  out << fmt::format("# Calibrated by `epsim calibrate` (epsim {}) from {} (topology {}).\n",
                     kEpsimVersion, view.topology_file, view.topology_name);
  out << "# Measurements (SHA-256 of each file):\n";
  for (const auto& [file, sha] : view.inputs) out << fmt::format("#   {}  {}\n", sha, file);
  out << fmt::format("# Held out: {}\n", view.holdout);
  out << "# Parameters (before -> after +- 1 sigma):\n";
  for (const CalibrationParameter& p : view.parameters) {
    if (p.state == "not measured") continue;
    out << fmt::format("#   {} {} -> {}{} {} ({})\n", p.name, Value(p.before), Value(p.after),
                       p.state == "fitted" || p.state == "at bound" ? " +- " + Value(p.sigma) : "",
                       p.unit, p.state);
  }
  std::string unmeasured;
  for (const CalibrationParameter& p : view.parameters)
    if (p.state == "not measured") unmeasured += (unmeasured.empty() ? "" : ", ") + p.name;
  if (!unmeasured.empty()) out << "# At their stock values (nothing measured them): " << unmeasured << "\n";
  out << "# Errors, MAPE / max |error| (before -> after):\n";
  for (bool held_out : {false, true}) {
    const ErrorStats b = StatsOf(view.points, held_out, false);
    const ErrorStats a = StatsOf(view.points, held_out, true);
    if (b.count == 0) continue;
    out << fmt::format("#   {} ({} measurements): {:.1f}% / {:.1f}% -> {:.1f}% / {:.1f}%\n",
                       held_out ? "held out" : "training", b.count, 100 * b.mape, 100 * b.max_abs,
                       100 * a.mape, 100 * a.max_abs);
  }
  for (const std::string& note : view.notes) out << "# Note: " << note << "\n";
  std::string text;
  google::protobuf::TextFormat::PrintToString(calibrated, &text);
  out << text;
  return out.str();
}

}  // namespace epsim::report
