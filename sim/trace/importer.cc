// Import(): checks the options, picks the format and hands over to the
// importer of that format (import_jsonl.cc, import_dense_csv.cc).
#include "sim/trace/importer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "sim/trace/import_internal.h"

namespace epsim::trace {

namespace {

// "" when the extension names no known format.
std::string FormatOfExtension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  const std::string ext = path.substr(dot);
  if (ext == ".jsonl" || ext == ".json") return "jsonl";
  if (ext == ".csv") return "dense-csv";
  return "";
}

Result<std::string> ResolveFormat(const ImportOptions& options) {
  if (options.format == "jsonl" || options.format == "dense-csv") return options.format;
  if (options.format != "auto")
    return Status::Usage(fmt::format("unknown import format '{}' (known: auto, jsonl, dense-csv)",
                                     options.format));
  const std::string format = FormatOfExtension(options.inputs.front());
  for (const std::string& input : options.inputs) {
    const std::string f = FormatOfExtension(input);
    if (f.empty())
      return Status::Usage(fmt::format(
          "{}: cannot tell the format from the extension (.jsonl, .json, .csv); pass the format",
          input));
    if (f != format)
      return Status::Usage(fmt::format("inputs mix formats: {} is {}, {} is {}",
                                       options.inputs.front(), format, input, f));
  }
  return format;
}

Status CheckOptions(const ImportOptions& options) {
  if (options.inputs.empty()) return Status::Usage("import: no input files given");
  if (options.output.empty()) return Status::Usage("import: no output file given");
  if (options.num_experts == 0)
    return Status::Usage("import: number of experts unknown: give a model or the number of experts");
  for (const std::string& input : options.inputs) {
    std::ifstream in(input);
    if (!in) return Status::NotFound(fmt::format("{}: cannot open: {}", input, std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace

proto::TraceHeader MakeImportHeader(const ImportOptions& options, const std::string& format,
                                    uint32_t num_topk) {
  proto::TraceHeader header;
  header.set_model(options.model);
  header.set_num_experts(options.num_experts);
  header.set_num_topk(num_topk);
  header.set_num_candidates(num_topk);
  proto::Provenance* provenance = header.mutable_provenance();
  provenance->set_source_format(format);
  for (const std::string& input : options.inputs) provenance->add_source_files(input);
  provenance->set_tool("epsim import");
  return header;
}

Status LineError(const std::string& file, uint64_t line, const std::string& what) {
  return Status::BadInput(fmt::format("{}:{}: {}", file, line, what));
}

Status Import(const ImportOptions& options) {
  EPSIM_RETURN_IF_ERROR(CheckOptions(options));
  EPSIM_ASSIGN_OR_RETURN(const std::string format, ResolveFormat(options));
  if (format == "jsonl") return ImportJsonl(options);
  return ImportDenseCsv(options);
}

}  // namespace epsim::trace
