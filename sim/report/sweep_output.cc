#include "sim/report/sweep_output.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/report/json_input.h"
#include "sim/report/report.h"
#include "sim/report/summary.h"
#include "sim/report/table.h"
#include "sim/report/version.h"

namespace epsim::report {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kPhase = kSweepInputColumns, kTime = kPhase + 1, kSpan = kPhase + 2,
                 kBytes = kPhase + 3, kCt = kPhase + 4, kSpeedup = kPhase + 5;
constexpr size_t kDispatchColumn = 8;

double Round(double x, double scale) { return std::round(x * scale) / scale; }

std::string Key(const std::vector<std::string>& inputs, bool without_dispatch) {
  std::string key;
  for (size_t i = 0; i < inputs.size(); ++i)
    key += (without_dispatch && i == kDispatchColumn ? "" : inputs[i]) + '\x1f';
  return key;
}

// One csv record: fields split at commas outside double quotes ("" is a quote).
Result<std::vector<std::string>> SplitCsv(const std::string& line, const std::string& where) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return Status::BadInput(where + ": unterminated quote");
  return fields;
}

Result<double> Number(const std::string& text, const std::string& where) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v))
    return Status::BadInput(fmt::format("{}: '{}' is not a finite number", where, text));
  return v;
}

Result<SweepRow> RowOfFields(const std::vector<std::string>& f, const std::string& where) {
  const auto& names = SweepColumns();
  if (f.size() != names.size())
    return Status::BadInput(fmt::format("{}: {} fields, expected {}", where, f.size(), names.size()));
  SweepRow row;
  row.inputs.assign(f.begin(), f.begin() + kSweepInputColumns);
  row.phase = f[kPhase];
  const bool total = row.phase == "total";
  proto::PhaseKind kind;
  if (!total && !PhaseKindFromName(row.phase, &kind))
    return Status::BadInput(fmt::format("{}: phase '{}' is not a phase kind or total", where, row.phase));
  auto column = [&](size_t i) { return fmt::format("{} ({})", where, names[i]); };
  EPSIM_ASSIGN_OR_RETURN(row.time_us, Number(f[kTime], column(kTime)));
  EPSIM_ASSIGN_OR_RETURN(row.devices_per_token, Number(f[kCt], column(kCt)));
  if (!total) {
    EPSIM_ASSIGN_OR_RETURN(row.span_us, Number(f[kSpan], column(kSpan)));
    EPSIM_ASSIGN_OR_RETURN(double bytes, Number(f[kBytes], column(kBytes)));
    if (bytes < 0 || bytes != std::floor(bytes))
      return Status::BadInput(column(kBytes) + ": not a byte count: " + f[kBytes]);
    row.bytes = static_cast<uint64_t>(bytes);
  }
  if (!f[kSpeedup].empty()) {
    EPSIM_ASSIGN_OR_RETURN(row.speedup, Number(f[kSpeedup], column(kSpeedup)));
  }
  return row;
}

std::vector<std::string> FieldsOf(const SweepRow& r) {
  std::vector<std::string> f = r.inputs;
  f.push_back(r.phase);
  f.push_back(fmt::format("{:.4f}", r.time_us));
  f.push_back(r.span_us ? fmt::format("{:.4f}", *r.span_us) : "");
  f.push_back(r.bytes ? std::to_string(*r.bytes) : "");
  f.push_back(fmt::format("{:.6f}", r.devices_per_token));
  f.push_back(r.speedup ? fmt::format("{:.4f}", *r.speedup) : "");
  return f;
}

Result<std::vector<SweepRow>> ParseCsv(const std::string& text, const std::string& path) {
  std::vector<SweepRow> rows;
  size_t pos = 0;
  int lineno = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      return Status::BadInput(fmt::format("{}:{}: truncated (no end of line)", path, lineno + 1));
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    const std::string where = fmt::format("{}:{}", path, ++lineno);
    EPSIM_ASSIGN_OR_RETURN(auto fields, SplitCsv(line, where));
    if (lineno == 1) {
      if (fields != SweepColumns())
        return Status::BadInput(where + ": not an epsim sweep table (header is not " +
                                fmt::format("{}", fmt::join(SweepColumns(), ",")) + ")");
      continue;
    }
    EPSIM_ASSIGN_OR_RETURN(SweepRow row, RowOfFields(fields, where));
    rows.push_back(std::move(row));
  }
  if (lineno == 0) return Status::BadInput(path + ": empty file");
  return rows;
}

Result<std::vector<SweepRow>> ParseJson(const std::string& text, const std::string& path) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rows") || !j["rows"].is_array())
    return Status::BadInput(path + ": not an epsim sweep table (json with a \"rows\" array)");
  std::vector<SweepRow> rows;
  for (size_t i = 0; i < j["rows"].size(); ++i) {
    const Json& r = j["rows"][i];
    const std::string where = fmt::format("{}: rows[{}]", path, i);
    std::vector<std::string> fields;
    for (const std::string& name : SweepColumns()) {
      if (!r.is_object() || !r.contains(name))
        return Status::BadInput(fmt::format("{}.{}: missing", where, name));
      const Json& v = r[name];
      if (v.is_null()) fields.push_back("");
      else if (v.is_string()) fields.push_back(v.get<std::string>());
      else if (v.is_number_unsigned()) fields.push_back(std::to_string(v.get<uint64_t>()));
      else if (v.is_number()) fields.push_back(fmt::format("{}", v.get<double>()));
      else return Status::BadInput(fmt::format("{}.{}: expected a string or number", where, name));
    }
    EPSIM_ASSIGN_OR_RETURN(SweepRow row, RowOfFields(fields, where));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

const std::vector<std::string>& SweepColumns() {
  static const std::vector<std::string> kColumns = {
      "model", "trace", "tokens", "seed", "topology", "calibrated", "ep", "placement",
      "dispatch", "pass", "overlap", "context", "p2p", "phase", "time_us", "span_us",
      "bytes", "devices_per_token", "speedup"};
  return kColumns;
}

std::vector<SweepRow> SweepRowsOf(const std::vector<std::string>& inputs,
                                  const proto::Report& report) {
  std::vector<SweepRow> rows;
  const double ct = Round(report.routing().devices_per_token(), 1e6);
  for (const KindTotal& t : TotalsByKind(report)) {
    SweepRow row{inputs, PhaseName(t.kind), Round(t.critical_s * 1e6, 1e4),
                 Round(t.time_s * 1e6, 1e4), t.bytes, ct, std::nullopt};
    rows.push_back(std::move(row));
  }
  rows.push_back({inputs, "total", Round(report.total_time_s() * 1e6, 1e4), std::nullopt,
                  std::nullopt, ct, std::nullopt});
  return rows;
}

void FillSpeedups(std::vector<SweepRow>* rows) {
  std::map<std::string, double> classical;
  for (const SweepRow& r : *rows)
    if (r.phase == "total" && r.inputs[kDispatchColumn] == "classical")
      classical[Key(r.inputs, true)] = r.time_us;
  for (SweepRow& r : *rows) {
    if (r.phase != "total") continue;
    auto it = classical.find(Key(r.inputs, true));
    r.speedup = std::nullopt;
    if (it != classical.end() && r.time_us > 0) r.speedup = Round(it->second / r.time_us, 1e4);
  }
}

std::string SweepCsv(const std::vector<SweepRow>& rows) {
  std::string out = fmt::format("{}\n", fmt::join(SweepColumns(), ","));
  for (const SweepRow& r : rows) {
    std::string line;
    for (const std::string& f : FieldsOf(r)) line += (line.empty() ? "" : ",") + CsvField(f);
    out += line + "\n";
  }
  return out;
}

std::string SweepJson(const std::vector<SweepRow>& rows) {
  Json j;
  j["context"] = {{"version", kEpsimVersion}, {"command", "sweep"}, {"columns", SweepColumns()}};
  j["rows"] = Json::array();
  for (const SweepRow& r : rows) {
    Json row;
    for (size_t i = 0; i < kSweepInputColumns; ++i)
      row[SweepColumns()[i]] = r.inputs[i].empty() ? Json() : Json(r.inputs[i]);
    row["phase"] = r.phase;
    row["time_us"] = r.time_us;
    row["span_us"] = r.span_us ? Json(*r.span_us) : Json();
    row["bytes"] = r.bytes ? Json(*r.bytes) : Json();
    row["devices_per_token"] = r.devices_per_token;
    row["speedup"] = r.speedup ? Json(*r.speedup) : Json();
    j["rows"].push_back(std::move(row));
  }
  return j.dump(1) + "\n";
}

Result<std::vector<SweepRow>> ParseSweepTable(const std::string& text, const std::string& path) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') return ParseJson(text, path);
  return ParseCsv(text, path);
}

void WriteSweepConsole(std::ostream& out, const std::vector<SweepRow>& rows) {
  const auto& names = SweepColumns();
  std::vector<size_t> varying;
  out << "# epsim " << kEpsimVersion << " sweep, simulated\n";
  for (size_t i = 0; i < kSweepInputColumns; ++i) {
    std::set<std::string> values;
    for (const SweepRow& r : rows) values.insert(r.inputs[i]);
    if (values.size() > 1 || i == kDispatchColumn) varying.push_back(i);
    else if (!values.empty() && !values.begin()->empty())
      out << "# " << names[i] << ": " << *values.begin() << "\n";
  }
  out << "# time: pass time (ms); speedup: over classical dispatch of the same point; C_T: GPUs "
         "per token; comm: dispatch + combine share of the pass (critical path, %)\n";
  TableRow header;
  for (size_t i : varying) header.push_back(names[i]);
  for (const char* h : {"time(ms)", "speedup", "C_T", "comm(%)"}) header.push_back(h);
  std::map<std::string, double> comm_us;
  for (const SweepRow& r : rows) {
    proto::PhaseKind kind;
    if (r.phase != "total" && PhaseKindFromName(r.phase, &kind) && IsCommunicationKind(kind))
      comm_us[Key(r.inputs, false)] += r.time_us;
  }
  std::vector<TableRow> table;
  for (const SweepRow& r : rows) {
    if (r.phase != "total") continue;
    TableRow row;
    for (size_t i : varying) row.push_back(r.inputs[i].empty() ? "-" : r.inputs[i]);
    row.push_back(fmt::format("{:.3f}", r.time_us / 1e3));
    row.push_back(r.speedup ? fmt::format("{:.2f}x", *r.speedup) : "-");
    row.push_back(fmt::format("{:.2f}", r.devices_per_token));
    row.push_back(fmt::format("{:.1f}", r.time_us > 0 ? 100 * comm_us[Key(r.inputs, false)] / r.time_us : 0));
    table.push_back(std::move(row));
  }
  out << FormatTable(header, table);
}

}  // namespace epsim::report
