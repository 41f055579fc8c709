// Plain CSV routing tables (one row per token and layer, experts and scores
// in router order) -> trace. Rows are read one at a time.
#include <fmt/format.h>

#include <cmath>
#include <string_view>
#include <vector>

#include "sim/trace/import_internal.h"
#include "sim/trace/log_input.h"

namespace epsim::trace {

namespace {

// Column layout read from a header "layer,token[,sequence],expert_0..,score_0..".
struct PlainCsvColumns {
  bool has_sequence = false;
  size_t first_expert = 2;
  uint32_t num_topk = 0;
  size_t size() const { return first_expert + 2 * size_t{num_topk}; }
};

Status ExpectColumn(const std::vector<std::string_view>& fields, size_t c,
                    const std::string& want) {
  if (c >= fields.size())
    return Status::BadInput(fmt::format("header has {} columns, expected '{}' in column {}",
                                        fields.size(), want, c + 1));
  if (fields[c] != want)
    return Status::BadInput(
        fmt::format("header column {} is '{}', expected '{}'", c + 1, fields[c], want));
  return Status::Ok();
}

Result<PlainCsvColumns> ParseHeader(const std::vector<std::string_view>& fields) {
  PlainCsvColumns cols;
  EPSIM_RETURN_IF_ERROR(ExpectColumn(fields, 0, "layer"));
  EPSIM_RETURN_IF_ERROR(ExpectColumn(fields, 1, "token"));
  cols.has_sequence = fields.size() > 2 && fields[2] == "sequence";
  cols.first_expert = cols.has_sequence ? 3 : 2;
  size_t c = cols.first_expert;
  while (c < fields.size() && fields[c] == fmt::format("expert_{}", cols.num_topk)) {
    ++cols.num_topk;
    ++c;
  }
  if (cols.num_topk == 0) return ExpectColumn(fields, c, "expert_0");
  for (uint32_t k = 0; k < cols.num_topk; ++k)
    EPSIM_RETURN_IF_ERROR(ExpectColumn(fields, c + k, fmt::format("score_{}", k)));
  if (fields.size() != cols.size())
    return Status::BadInput(fmt::format("header has {} columns, expected {} for top-{}",
                                        fields.size(), cols.size(), cols.num_topk));
  return cols;
}

class PlainCsvImporter {
 public:
  explicit PlainCsvImporter(const ImportOptions& options)
      : sink_(options, "plain-csv", /*dense_token_ids=*/false) {}

  Status ImportFile(const std::string& file);
  Result<ImportSummary> Finish() { return sink_.Finish(); }

 private:
  Status ReadHeader(std::string_view line);
  Status ImportRow(std::string_view line);

  ImportSink sink_;
  PlainCsvColumns cols_;
  uint32_t num_topk_ = 0;  // of the first file; later files must agree
  std::vector<std::string_view> fields_;
  std::vector<uint32_t> ids_;
  std::vector<float> scores_;
};

Status PlainCsvImporter::ReadHeader(std::string_view line) {
  SplitFields(line, &fields_);
  EPSIM_ASSIGN_OR_RETURN(cols_, ParseHeader(fields_));
  if (num_topk_ != 0 && cols_.num_topk != num_topk_)
    return Status::BadInput(fmt::format("header has {} expert columns, earlier files have {}",
                                        cols_.num_topk, num_topk_));
  num_topk_ = cols_.num_topk;
  return Status::Ok();
}

Status PlainCsvImporter::ImportFile(const std::string& file) {
  EPSIM_ASSIGN_OR_RETURN(auto input, LogInput::Open(file));
  LineReader lines(input.get());
  std::string_view line;
  EPSIM_ASSIGN_OR_RETURN(bool got, lines.Next(&line));
  if (!got) return LineError(file, 1, "empty file (no header row)");
  sink_.CountLine(line.size() + 1);
  Status st = ReadHeader(line);
  if (!st.ok()) return st.WithContext(file + ":1");
  uint64_t line_no = 1;
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    ++line_no;
    sink_.CountLine(line.size() + 1);
    st = ImportRow(line);
    if (!st.ok()) return st.WithContext(fmt::format("{}:{}", file, line_no));
  }
  if (line_no == 1) return LineError(file, 2, "no token rows after the header");
  return Status::Ok();
}

Status PlainCsvImporter::ImportRow(std::string_view line) {
  SplitFields(line, &fields_);
  if (fields_.size() != cols_.size())
    return Status::BadInput(fmt::format("{} fields, expected {}", fields_.size(), cols_.size()));
  uint32_t layer = 0;
  uint64_t token = 0;
  uint64_t sequence = 0;
  EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[0], 0, &layer));
  EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[1], 1, &token));
  if (cols_.has_sequence) EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[2], 2, &sequence));
  ids_.resize(cols_.num_topk);
  scores_.resize(cols_.num_topk);
  for (uint32_t k = 0; k < cols_.num_topk; ++k) {
    const size_t c = cols_.first_expert + k;
    const size_t s = c + cols_.num_topk;
    double score = 0;
    EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[c], c, &ids_[k]));
    EPSIM_RETURN_IF_ERROR(ParseNumber(fields_[s], s, &score));
    if (!std::isfinite(score))
      return Status::BadInput(
          fmt::format("field {} is '{}', not a finite score", s + 1, fields_[s]));
    scores_[k] = static_cast<float>(score);
  }
  if (sink_.Skip(layer)) return Status::Ok();
  if (sink_.HasRow(token, layer))
    return Status::BadInput(fmt::format("layer {} token {} repeated", layer, token));
  return sink_.Add(layer, token, sequence, ids_.data(), scores_.data(), ids_.size());
}

}  // namespace

Result<ImportSummary> ImportPlainCsv(const ImportOptions& options) {
  PlainCsvImporter importer(options);
  for (const std::string& file : options.inputs) EPSIM_RETURN_IF_ERROR(importer.ImportFile(file));
  return importer.Finish();
}

}  // namespace epsim::trace
