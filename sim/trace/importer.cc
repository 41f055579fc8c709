// Import(): checks the options, picks the format and hands over to the
// importer of that format (import_jsonl.cc, import_dense_csv.cc,
// import_plain_csv.cc).
#include "sim/trace/importer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sim/trace/import_internal.h"

namespace epsim::trace {

namespace {

constexpr const char* kFormats = "auto, jsonl, dense-csv, plain-csv";

// "jsonl", "csv" or "" when the extension names no known format.
std::string KindOfExtension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  const std::string ext = path.substr(dot);
  if (ext == ".jsonl" || ext == ".json") return "jsonl";
  if (ext == ".csv") return "csv";
  return "";
}

// A .csv file is dense or plain by the first column of its header.
std::string CsvFormatOf(const std::string& path) {
  const std::string header = FirstLine(path);
  return header.rfind("layer,", 0) == 0 ? "plain-csv" : "dense-csv";
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
          "{}: cannot tell the format from the extension (.jsonl, .json, .csv); pass the format",
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
      options.jsonl_shape != "vllm")
    return Status::Usage(fmt::format("unknown JSON-lines shape '{}' (known: auto, mixtral, vllm)",
                                     options.jsonl_shape));
  const bool fields = !options.layer_field.empty() || !options.ids_field.empty() ||
                      !options.scores_field.empty() || !options.token_field.empty() ||
                      !options.sequence_field.empty();
  if (format != "jsonl" && (fields || options.jsonl_shape != "auto"))
    return Status::Usage(
        fmt::format("field names and the shape apply to JSON lines only, not {}", format));
  // The meta line of a JSON-lines log may give the number of experts.
  if (format != "jsonl" && options.num_experts == 0)
    return Status::Usage(
        "import: number of experts unknown: give a model or the number of experts");
  return Status::Ok();
}

Status CheckOptions(const ImportOptions& options) {
  if (options.inputs.empty()) return Status::Usage("import: no input files given");
  if (options.output.empty()) return Status::Usage("import: no output file given");
  for (const std::string& input : options.inputs) {
    std::ifstream in(input);
    if (!in) return Status::NotFound(fmt::format("{}: cannot open: {}", input, std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace

Result<ImportSummary> Import(const ImportOptions& options) {
  EPSIM_RETURN_IF_ERROR(CheckOptions(options));
  EPSIM_ASSIGN_OR_RETURN(const std::string format, ResolveFormat(options));
  EPSIM_RETURN_IF_ERROR(CheckJsonlOptions(options, format));
  if (format == "jsonl") return ImportJsonl(options);
  if (format == "plain-csv") return ImportPlainCsv(options);
  return ImportDenseCsv(options);
}

}  // namespace epsim::trace
