// Dense CSV routing dumps (one file per layer, one row of num_experts
// probabilities per token) -> trace. Rows are read one at a time; memory
// holds a row and one file's token ids (for the repeat check).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/trace/import_internal.h"
#include "sim/trace/log_input.h"

namespace epsim::trace {

namespace {

// The layer is the last run of digits in the file name: "layer7.csv" -> 7.
Result<uint32_t> LayerFromFileName(const std::string& file) {
  const size_t slash = file.find_last_of('/');
  const std::string_view name =
      std::string_view(file).substr(slash == std::string::npos ? 0 : slash + 1);
  const size_t last = name.find_last_of("0123456789");
  if (last == std::string_view::npos)
    return Status::BadInput("no layer number in the file name (expected e.g. layer7.csv)");
  size_t first = last;
  while (first > 0 && name[first - 1] >= '0' && name[first - 1] <= '9') --first;
  uint32_t layer = 0;
  auto [ptr, ec] = std::from_chars(name.data() + first, name.data() + last + 1, layer);
  if (ec != std::errc()) return Status::BadInput("layer number in the file name is too large");
  return layer;
}

class DenseCsvImporter {
 public:
  explicit DenseCsvImporter(const ImportOptions& options)
      : options_(options), sink_(options, "dense-csv", /*dense_token_ids=*/false) {}

  Status ImportFile(const std::string& file);
  Result<ImportSummary> Finish() { return sink_.Finish(); }

 private:
  Status ClaimLayer(const std::string& file, uint32_t* layer);
  Status CheckHeaderRow(std::string_view line);
  Status ImportRow(std::string_view line, uint32_t layer);
  Status SelectExperts();

  const ImportOptions& options_;
  ImportSink sink_;
  std::map<uint32_t, std::string> layer_files_;        // layer -> file that gave it
  std::unordered_map<uint64_t, uint64_t> file_tokens_;  // token id -> line, this file
  uint64_t line_no_ = 0;
  std::vector<std::string_view> fields_;
  std::vector<std::pair<double, uint32_t>> selected_;  // (probability, expert)
  std::vector<uint32_t> idx_;
  std::vector<float> weights_;
};

Status DenseCsvImporter::ClaimLayer(const std::string& file, uint32_t* layer) {
  EPSIM_ASSIGN_OR_RETURN(*layer, LayerFromFileName(file));
  auto [it, inserted] = layer_files_.try_emplace(*layer, file);
  if (!inserted)
    return Status::BadInput(fmt::format("layer {} is also given by {}", *layer, it->second));
  return Status::Ok();
}

Status DenseCsvImporter::CheckHeaderRow(std::string_view line) {
  SplitFields(line, &fields_);
  const size_t num_experts = options_.num_experts;
  if (fields_.size() != num_experts + 2)
    return Status::BadInput(fmt::format("header has {} columns, expected {} (layer_id, "
                                        "token_id and num_experts {} expert columns)",
                                        fields_.size(), num_experts + 2, num_experts));
  for (size_t c = 0; c < fields_.size(); ++c) {
    const std::string want = c == 0 ? "layer_id" : c == 1 ? "token_id" : fmt::format("expert_{}", c - 2);
    if (fields_[c] != want)
      return Status::BadInput(
          fmt::format("header column {} is '{}', expected '{}'", c + 1, fields_[c], want));
  }
  return Status::Ok();
}

Status DenseCsvImporter::ImportFile(const std::string& file) {
  EPSIM_ASSIGN_OR_RETURN(auto input, LogInput::Open(file));
  LineReader lines(input.get());
  uint32_t layer = 0;
  Status st = ClaimLayer(file, &layer);
  if (!st.ok()) return st.WithContext(file + ":1");
  std::string_view line;
  line_no_ = 1;
  EPSIM_ASSIGN_OR_RETURN(bool got, lines.Next(&line));
  if (!got) return LineError(file, 1, "empty file (no header row)");
  sink_.CountLine(line.size() + 1);
  st = CheckHeaderRow(line);
  if (!st.ok()) return st.WithContext(file + ":1");
  file_tokens_.clear();
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    ++line_no_;
    sink_.CountLine(line.size() + 1);
    st = ImportRow(line, layer);
    if (!st.ok()) return st.WithContext(fmt::format("{}:{}", file, line_no_));
  }
  if (line_no_ == 1) return LineError(file, 2, "no token rows after the header");
  return Status::Ok();
}

Status DenseCsvImporter::ImportRow(std::string_view line, uint32_t layer) {
  SplitFields(line, &fields_);
  if (fields_.size() != options_.num_experts + 2)
    return Status::BadInput(
        fmt::format("{} fields, expected {}", fields_.size(), options_.num_experts + 2));
  uint64_t layer_column = 0;  // always 0 in the known dumps: the file name rules
  uint64_t token = 0;
  EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[0], 0, &layer_column));
  EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[1], 1, &token));
  EPSIM_RETURN_IF_ERROR(SelectExperts());
  if (sink_.Skip(layer)) return Status::Ok();
  auto [it, inserted] = file_tokens_.try_emplace(token, line_no_);
  if (!inserted)
    return Status::BadInput(fmt::format("token_id {} repeated (first on line {})", token, it->second));
  if (sink_.started() && idx_.size() != sink_.num_topk())
    return Status::BadInput(fmt::format("{} non-zero probabilities, earlier rows have {}",
                                        idx_.size(), sink_.num_topk()));
  if (idx_.size() != weights_.size()) return Status::Internal("dense-csv: ids and weights differ");
  return sink_.Add(layer, token, /*sequence_id=*/0, idx_.data(), weights_.data(), idx_.size());
}

// Selected experts: the non-zero entries by descending probability, ties by
// expert id, so the order is the router's and does not depend on the file.
Status DenseCsvImporter::SelectExperts() {
  selected_.clear();
  for (size_t c = 2; c < fields_.size(); ++c) {
    double p = 0;
    EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[c], c, &p));
    if (!std::isfinite(p) || p < 0)
      return Status::BadInput(
          fmt::format("field {} is {}, not a probability (finite, >= 0)", c + 1, fields_[c]));
    if (p > 0) selected_.emplace_back(p, static_cast<uint32_t>(c - 2));
  }
  if (selected_.empty()) return Status::BadInput("no non-zero probability in the row");
  std::sort(selected_.begin(), selected_.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  idx_.clear();
  weights_.clear();
  for (const auto& [p, e] : selected_) {
    idx_.push_back(e);
    weights_.push_back(static_cast<float>(p));
  }
  return Status::Ok();
}

}  // namespace

Result<ImportSummary> ImportDenseCsv(const ImportOptions& options) {
  DenseCsvImporter importer(options);
  for (const std::string& file : options.inputs) EPSIM_RETURN_IF_ERROR(importer.ImportFile(file));
  return importer.Finish();
}

}  // namespace epsim::trace
