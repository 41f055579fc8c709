// Strict reading of the json format (json.cc writes it). A JSON value is
// read through Object, which knows its path ("records[12]") so that every
// failure names where it is; the file name is added at the top.
#include "sim/report/json_input.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <utility>

#include "sim/base/file_util.h"
#include "sim/report/report.h"
#include "sim/report/summary.h"

namespace epsim::report {

namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxUint32 = std::numeric_limits<uint32_t>::max();

// `path` is empty for the document itself.
Status Bad(const std::string& path, const std::string& what) {
  return Status::BadInput(path.empty() ? what : path + ": " + what);
}

// What a value of the wrong type is, for the message.
std::string Got(const Json& value) {
  if (value.is_null()) return "null (a NaN or infinity is written as null)";
  if (value.is_number()) return "number " + value.dump();
  return value.type_name();
}

// A JSON object and its path from the document root.
class Object {
 public:
  // The object `value`, at `path`; an error if it is not an object.
  static Result<Object> Of(const Json& value, std::string path) {
    if (!value.is_object()) return Bad(path, "expected an object, got " + Got(value));
    return Object(value, std::move(path));
  }

  const std::string& path() const { return path_; }
  const Json& json() const { return *json_; }

  Result<Object> Child(const char* key) const {
    EPSIM_ASSIGN_OR_RETURN(const Json* value, Member(key));
    return Of(*value, PathOf(key));
  }
  Result<const Json*> Array(const char* key) const {
    EPSIM_ASSIGN_OR_RETURN(const Json* value, Member(key));
    if (!value->is_array()) return Bad(PathOf(key), "expected an array, got " + Got(*value));
    return value;
  }
  Result<std::string> String(const char* key) const {
    EPSIM_ASSIGN_OR_RETURN(const Json* value, Member(key));
    if (!value->is_string()) return Bad(PathOf(key), "expected a string, got " + Got(*value));
    return value->get<std::string>();
  }
  Result<bool> Bool(const char* key) const {
    EPSIM_ASSIGN_OR_RETURN(const Json* value, Member(key));
    if (!value->is_boolean()) return Bad(PathOf(key), "expected a boolean, got " + Got(*value));
    return value->get<bool>();
  }
  // A finite number (integer or not).
  Result<double> Number(const char* key) const {
    EPSIM_ASSIGN_OR_RETURN(const Json* value, Member(key));
    if (!value->is_number()) return Bad(PathOf(key), "expected a number, got " + Got(*value));
    // JSON has no NaN or infinity (writers put null) and nlohmann refuses
    // 1e999; the check stays in case a parser version lets one through.
    const double number = value->get<double>();
    if (!std::isfinite(number)) return Bad(PathOf(key), "not a finite number");
    return number;
  }
  // A non-negative integer up to `max`.
  Result<uint64_t> Unsigned(const char* key, uint64_t max = UINT64_MAX) const {
    EPSIM_ASSIGN_OR_RETURN(const Json* value, Member(key));
    if (!value->is_number_unsigned())
      return Bad(PathOf(key), "expected an unsigned integer, got " + Got(*value));
    const uint64_t number = value->get<uint64_t>();
    if (number > max) return Bad(PathOf(key), value->dump() + " out of range");
    return number;
  }
  bool Has(const char* key) const { return json_->contains(key); }
  // A time in microseconds, as seconds.
  Result<double> Seconds(const char* key) const {
    EPSIM_ASSIGN_OR_RETURN(double time_us, Number(key));
    return time_us * 1e-6;
  }

 private:
  Object(const Json& value, std::string path) : json_(&value), path_(std::move(path)) {}
  std::string PathOf(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  Result<const Json*> Member(const char* key) const {
    auto it = json_->find(key);
    if (it == json_->end()) return Bad(PathOf(key), "missing");
    return &*it;
  }

  const Json* json_;
  std::string path_;
};

std::string Indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// settings: an object of strings.
Status ReadSettings(const Object& run, proto::Report* report) {
  EPSIM_ASSIGN_OR_RETURN(Object settings, run.Child("settings"));
  for (const auto& [key, value] : settings.json().items()) {
    EPSIM_ASSIGN_OR_RETURN(std::string text, settings.String(key.c_str()));
    (*report->mutable_settings())[key] = text;
  }
  return Status::Ok();
}

// What the run was (json.cc: Run).
Status ReadRunNames(const Object& run, proto::Report* report) {
  EPSIM_ASSIGN_OR_RETURN(*report->mutable_strategy(), run.String("strategy"));
  EPSIM_ASSIGN_OR_RETURN(*report->mutable_placement(), run.String("placement"));
  EPSIM_ASSIGN_OR_RETURN(*report->mutable_source(), run.String("source"));
  EPSIM_ASSIGN_OR_RETURN(*report->mutable_model(), run.String("model"));
  EPSIM_ASSIGN_OR_RETURN(*report->mutable_topology(), run.String("topology"));
  EPSIM_ASSIGN_OR_RETURN(uint64_t num_ranks, run.Unsigned("num_ranks", kMaxUint32));
  report->set_num_ranks(static_cast<uint32_t>(num_ranks));
  return ReadSettings(run, report);
}

// How it was timed and checked.
Status ReadRunTiming(const Object& run, proto::Report* report) {
  EPSIM_ASSIGN_OR_RETURN(double total_s, run.Seconds("total_time_us"));
  EPSIM_ASSIGN_OR_RETURN(double total_min_s, run.Seconds("total_time_min_us"));
  EPSIM_ASSIGN_OR_RETURN(double total_max_s, run.Seconds("total_time_max_us"));
  EPSIM_ASSIGN_OR_RETURN(uint64_t iterations, run.Unsigned("iterations", kMaxUint32));
  EPSIM_ASSIGN_OR_RETURN(uint64_t warmup, run.Unsigned("warmup", kMaxUint32));
  EPSIM_ASSIGN_OR_RETURN(bool checked, run.Bool("checked"));
  EPSIM_ASSIGN_OR_RETURN(uint64_t wrong, run.Unsigned("wrong"));
  report->set_total_time_s(total_s);
  report->set_total_time_min_s(total_min_s);
  report->set_total_time_max_s(total_max_s);
  report->set_iterations(static_cast<uint32_t>(iterations));
  report->set_warmup(static_cast<uint32_t>(warmup));
  report->set_checked(checked);
  report->set_wrong(wrong);
  return Status::Ok();
}

using RunKey = std::pair<std::string, std::string>;  // (strategy, placement)

Status ReadRuns(const Object& context, ReportFile* file, std::map<RunKey, size_t>* index) {
  EPSIM_ASSIGN_OR_RETURN(const Json* runs, context.Array("runs"));
  if (runs->empty()) return Bad("context.runs", "no runs");
  for (size_t i = 0; i < runs->size(); ++i) {
    EPSIM_ASSIGN_OR_RETURN(Object run, Object::Of((*runs)[i], Indexed("context.runs", i)));
    proto::Report report;
    EPSIM_RETURN_IF_ERROR(ReadRunNames(run, &report));
    EPSIM_RETURN_IF_ERROR(ReadRunTiming(run, &report));
    if (!index->emplace(RunKey{report.strategy(), report.placement()}, i).second)
      return Bad(run.path(), "run '" + ReportName(report) + "' appears twice");
    file->reports.push_back(std::move(report));
  }
  return Status::Ok();
}

// One record (json.cc: Record) as a PhaseTiming; the caller sets `phase`.
Status ReadRecord(const Object& record, proto::PhaseTiming* phase) {
  EPSIM_ASSIGN_OR_RETURN(uint64_t layer, record.Unsigned("layer", kMaxUint32));
  EPSIM_ASSIGN_OR_RETURN(std::string kind_name, record.String("phase"));
  proto::PhaseKind kind;
  if (!PhaseKindFromName(kind_name, &kind))
    return Bad(record.path() + ".phase", "unknown phase '" + kind_name + "'");
  EPSIM_ASSIGN_OR_RETURN(uint64_t bytes, record.Unsigned("bytes"));
  EPSIM_ASSIGN_OR_RETURN(uint64_t rows, record.Unsigned("rows"));
  EPSIM_RETURN_IF_ERROR(record.Number("time_us").status());
  EPSIM_ASSIGN_OR_RETURN(double start_s, record.Seconds("start_us"));
  EPSIM_ASSIGN_OR_RETURN(double end_s, record.Seconds("end_us"));
  EPSIM_ASSIGN_OR_RETURN(uint64_t max_rank, record.Unsigned("max_rank", kMaxUint32));
  EPSIM_ASSIGN_OR_RETURN(double busy_max_s, record.Seconds("busy_max_us"));
  EPSIM_ASSIGN_OR_RETURN(double busy_mean_s, record.Seconds("busy_mean_us"));
  phase->set_layer(static_cast<uint32_t>(layer));
  phase->set_kind(kind);
  phase->set_bytes(bytes);
  phase->set_rows(rows);
  phase->set_start_s(start_s);
  phase->set_end_s(end_s);
  phase->set_max_rank(static_cast<uint32_t>(max_rank));
  phase->set_busy_max_s(busy_max_s);
  phase->set_busy_mean_s(busy_mean_s);
  // Since the critical-path columns (older reports lack them).
  if (record.Has("critical_us")) {
    EPSIM_ASSIGN_OR_RETURN(double critical_s, record.Seconds("critical_us"));
    EPSIM_ASSIGN_OR_RETURN(double wait_max_s, record.Seconds("wait_max_us"));
    EPSIM_ASSIGN_OR_RETURN(double wait_mean_s, record.Seconds("wait_mean_us"));
    phase->set_critical_s(critical_s);
    phase->set_wait_max_s(wait_max_s);
    phase->set_wait_mean_s(wait_mean_s);
  }
  return Status::Ok();
}

// Each record joins the run of its (strategy, placement).
Status ReadRecords(const Object& doc, const std::map<RunKey, size_t>& index, ReportFile* file) {
  EPSIM_ASSIGN_OR_RETURN(const Json* records, doc.Array("records"));
  for (size_t i = 0; i < records->size(); ++i) {
    EPSIM_ASSIGN_OR_RETURN(Object record, Object::Of((*records)[i], Indexed("records", i)));
    EPSIM_ASSIGN_OR_RETURN(std::string strategy, record.String("strategy"));
    EPSIM_ASSIGN_OR_RETURN(std::string placement, record.String("placement"));
    auto run = index.find({strategy, placement});
    if (run == index.end())
      return Bad(record.path(),
                 "run '" + strategy + " / " + placement + "' is not in context.runs");
    proto::Report& report = file->reports[run->second];
    proto::PhaseTiming phase;
    EPSIM_RETURN_IF_ERROR(ReadRecord(record, &phase));
    phase.set_phase(static_cast<uint32_t>(report.phases_size()));
    *report.add_phases() = std::move(phase);
  }
  return Status::Ok();
}

Status ReadDocument(const Json& json, ReportFile* file) {
  EPSIM_ASSIGN_OR_RETURN(Object doc, Object::Of(json, ""));
  EPSIM_ASSIGN_OR_RETURN(Object context, doc.Child("context"));
  EPSIM_ASSIGN_OR_RETURN(file->version, context.String("version"));
  EPSIM_ASSIGN_OR_RETURN(file->command, context.String("command"));
  if (context.json().contains("inputs")) {
    EPSIM_ASSIGN_OR_RETURN(Object inputs, context.Child("inputs"));
    for (const auto& [key, value] : inputs.json().items()) {
      if (!value.is_string())
        return Bad(inputs.path() + "." + key, "expected a string, got " + Got(value));
      file->inputs.emplace_back(key, value.get<std::string>());
    }
  }
  std::map<RunKey, size_t> index;
  EPSIM_RETURN_IF_ERROR(ReadRuns(context, file, &index));
  return ReadRecords(doc, index, file);
}

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string ParseErrorText(const Json::exception& e) {
  const std::string what = e.what();
  const size_t tag_end = what.find("] ");
  return tag_end == std::string::npos ? what : what.substr(tag_end + 2);
}

}  // namespace

Result<ReportFile> ParseReportJson(const std::string& text, const std::string& path) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error; out_of_range for a number like 1e999
    return Status::BadInput(path + ": not valid JSON: " + ParseErrorText(e));
  }
  ReportFile file;
  file.path = path;
  Status status = ReadDocument(json, &file);
  if (!status.ok()) return status.WithContext(path);
  return file;
}

Result<ReportFile> ReadReportJson(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseReportJson(text, path);
}

bool PhaseKindFromName(const std::string& name, proto::PhaseKind* kind) {
  for (int k = proto::PhaseKind_MIN; k <= proto::PhaseKind_MAX; ++k) {
    if (!proto::PhaseKind_IsValid(k) || k == proto::PHASE_UNSPECIFIED) continue;
    if (name == PhaseName(static_cast<proto::PhaseKind>(k))) {
      *kind = static_cast<proto::PhaseKind>(k);
      return true;
    }
  }
  return false;
}

}  // namespace epsim::report
