// Import(): checks the options, picks the format and hands over to the
// importer of that format (import_jsonl.cc, import_dense_csv.cc,
// import_plain_csv.cc).
#include "sim/base/output_file.h"
#include "sim/trace/importer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "sim/trace/format.h"
#include "sim/trace/import_internal.h"
#include "sim/trace/log_input.h"

namespace epsim::trace {

namespace {

constexpr const char* kFormats = "auto, jsonl, dense-csv, plain-csv";

// "jsonl", "csv" or "" when the extension names no known format; a
// compression suffix (.gz, .zst) is looked through. Standard input ("-")
// is JSON lines unless the format is given.
std::string KindOfExtension(std::string path) {
  if (path == "-") return "jsonl";
  for (const char* z : {".gz", ".zst", ".zstd"}) {
    const std::string suffix = z;
    if (path.size() > suffix.size() &&
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      path.resize(path.size() - suffix.size());
      break;
    }
  }
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  const std::string ext = path.substr(dot);
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") return "jsonl";
  if (ext == ".csv") return "csv";
  return "";
}

// A .csv file is dense or plain by the first column of its header (read
// through its compression, if any).
Result<std::string> CsvFormatOf(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(auto input, LogInput::Open(path));
  EPSIM_ASSIGN_OR_RETURN(const std::string header, input->FirstLine());
  return std::string(header.rfind("layer,", 0) == 0 ? "plain-csv" : "dense-csv");
}

Result<std::string> ResolveFormat(const ImportOptions& options) {
  if (options.format == "jsonl" || options.format == "dense-csv" ||
      options.format == "plain-csv")
    return options.format;
  if (options.format != "auto")
    return Status::Usage(
        fmt::format("unknown import format '{}' (known: {})", options.format, kFormats));
  const std::string kind = KindOfExtension(options.inputs.front());
  for (const std::string& input : options.inputs) {
    const std::string k = KindOfExtension(input);
    if (k.empty())
      return Status::Usage(fmt::format(
          "{}: cannot tell the format from the extension (.jsonl, .json, .ndjson, .csv, each "
          "optionally .gz or .zst); pass the format",
          input));
    if (k != kind)
      return Status::Usage(fmt::format("inputs mix formats: {} is {}, {} is {}",
                                       options.inputs.front(), kind, input, k));
  }
  if (kind == "jsonl") return kind;
  return CsvFormatOf(options.inputs.front());
}

Status CheckJsonlOptions(const ImportOptions& options, const std::string& format) {
  if (options.jsonl_shape != "auto" && options.jsonl_shape != "mixtral" &&
      options.jsonl_shape != "vllm" && options.jsonl_shape != "routed")
    return Status::Usage(fmt::format(
        "unknown JSON-lines shape '{}' (known: auto, mixtral, vllm, routed)", options.jsonl_shape));
  if (options.repeats != "step" && options.repeats != "error")
    return Status::Usage(fmt::format("unknown --repeats '{}' (known: step, error)",
                                     options.repeats));
  if (options.chunk_bytes == 0) return Status::Usage("chunk size 0");
  const bool fields = !options.layer_field.empty() || !options.ids_field.empty() ||
                      !options.scores_field.empty() || !options.token_field.empty() ||
                      !options.sequence_field.empty();
  if (format != "jsonl" && (fields || options.jsonl_shape != "auto"))
    return Status::Usage(
        fmt::format("field names and the shape apply to JSON lines only, not {}", format));
  if (options.num_experts > kMaxTraceExperts)
    return Status::Usage(fmt::format("--num-experts {} is above {}, more than any model has",
                                     options.num_experts, kMaxTraceExperts));
  // The meta line of a JSON-lines log may give the number of experts.
  if (format != "jsonl" && options.num_experts == 0)
    return Status::Usage(
        "import: number of experts unknown: give a model or the number of experts");
  return Status::Ok();
}

Status CheckOptions(const ImportOptions& options) {
  if (options.inputs.empty()) return Status::Usage("import: no input files given");
  if (options.output.empty()) return Status::Usage("import: no output file given");
  size_t stdin_inputs = 0;
  for (const std::string& input : options.inputs) {
    if (input == "-") {
      ++stdin_inputs;
      continue;
    }
    EPSIM_RETURN_IF_ERROR(CheckInputPath(input));
    std::ifstream in(input);
    if (!in) return Status::NotFound(fmt::format("{}: cannot open: {}", input, std::strerror(errno)));
  }
  if (stdin_inputs > 1) return Status::Usage("import: standard input ('-') given twice");
  return Status::Ok();
}

}  // namespace

Result<ImportSummary> Import(const ImportOptions& options) {
  EPSIM_RETURN_IF_ERROR(CheckOptions(options));
  EPSIM_ASSIGN_OR_RETURN(const std::string format, ResolveFormat(options));
  EPSIM_RETURN_IF_ERROR(CheckJsonlOptions(options, format));
  if (format == "dense-csv" &&
      std::find(options.inputs.begin(), options.inputs.end(), "-") != options.inputs.end())
    return Status::Usage(
        "import: dense-csv takes the layer from each file's name; standard input has none");
  if (format == "jsonl") return ImportJsonl(options);
  if (format == "plain-csv") return ImportPlainCsv(options);
  return ImportDenseCsv(options);
}

}  // namespace epsim::trace
