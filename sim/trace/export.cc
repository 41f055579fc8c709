#include "sim/base/fatal_cleanup.h"
#include "sim/trace/export.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "sim/trace/reader.h"

namespace epsim::trace {

namespace {

// Text is formatted into this buffer and written out when it grows past it.
constexpr size_t kFlushBytes = 1 << 20;

// JSON string literal of `s` (model names: quotes, backslashes, controls).
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

void AppendMeta(const proto::TraceHeader& h, fmt::memory_buffer* out) {
  fmt::format_to(std::back_inserter(*out),
                 "{{\"type\": \"meta\", \"model\": {}, \"num_experts\": {}, \"top_k\": {}, "
                 "\"num_layers\": {}}}\n",
                 JsonString(h.model()), h.num_experts(), h.num_topk(), h.num_layers());
}

void AppendCsvHeader(const proto::TraceHeader& h, fmt::memory_buffer* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "layer,token,sequence");
  for (uint32_t k = 0; k < h.num_topk(); ++k) fmt::format_to(it, ",expert_{}", k);
  for (uint32_t k = 0; k < h.num_topk(); ++k) fmt::format_to(it, ",score_{}", k);
  out->push_back('\n');
}

// Row t of `r`, first `k` of `c` candidates.
void AppendJsonRow(const proto::LayerRecord& r, int t, uint32_t k, uint32_t c,
                   fmt::memory_buffer* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "{{\"type\": \"route\", \"req_id\": {}, \"token_idx\": {}, \"layer\": {}, "
                 "\"topk_ids\": [",
                 r.sequence_ids(t), r.token_ids(t), r.layer());
  for (uint32_t i = 0; i < k; ++i) fmt::format_to(it, "{}{}", i ? ", " : "", r.topk_idx(t * c + i));
  fmt::format_to(it, "], \"topk_weights\": [");
  for (uint32_t i = 0; i < k; ++i)
    fmt::format_to(it, "{}{:.9g}", i ? ", " : "", r.topk_weights(t * c + i));
  fmt::format_to(it, "]}}\n");
}

void AppendCsvRow(const proto::LayerRecord& r, int t, uint32_t k, uint32_t c,
                  fmt::memory_buffer* out) {
  auto it = std::back_inserter(*out);
  fmt::format_to(it, "{},{},{}", r.layer(), r.token_ids(t), r.sequence_ids(t));
  for (uint32_t i = 0; i < k; ++i) fmt::format_to(it, ",{}", r.topk_idx(t * c + i));
  for (uint32_t i = 0; i < k; ++i) fmt::format_to(it, ",{:.9g}", r.topk_weights(t * c + i));
  out->push_back('\n');
}

// Writes to a temporary renamed over the output by Commit(); removed if
// never committed.
class AtomicTextFile {
 public:
  explicit AtomicTextFile(std::string path)
      : path_(std::move(path)), tmp_(fmt::format("{}.tmp.{}", path_, ::getpid())) {}
  ~AtomicTextFile() {
    if (!committed_) {
      out_.close();
      std::remove(tmp_.c_str());
    }
    RemoveFatalCleanup(tmp_);
  }

  Status Open() {
    RemoveStaleTemporaries(path_);
    AddFatalCleanup(tmp_);
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) return Error("cannot create " + tmp_);
    return Status::Ok();
  }
  Status Write(fmt::memory_buffer* buffer) {
    out_.write(buffer->data(), static_cast<std::streamsize>(buffer->size()));
    buffer->clear();
    if (!out_) return Error("write failed");
    return Status::Ok();
  }
  Status Commit() {
    out_.close();
    if (!out_) return Error("write failed");
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) return Error("cannot rename into place");
    committed_ = true;
    return Status::Ok();
  }

 private:
  Status Error(const std::string& what) const {
    return Status::IoError(fmt::format("{}: {}: {}", path_, what, std::strerror(errno)));
  }
  const std::string path_;
  const std::string tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace

Status ExportTrace(const std::string& trace_path, const std::string& out_path,
                   const std::string& format) {
  if (format != "jsonl" && format != "csv")
    return Status::Usage(fmt::format("unknown export format '{}' (known: jsonl, csv)", format));
  EPSIM_ASSIGN_OR_RETURN(auto reader, TraceReader::Open(trace_path));
  const proto::TraceHeader& h = reader->header();
  const bool jsonl = format == "jsonl";
  AtomicTextFile file(out_path);
  EPSIM_RETURN_IF_ERROR(file.Open());
  fmt::memory_buffer buffer;
  if (jsonl) AppendMeta(h, &buffer);
  else AppendCsvHeader(h, &buffer);
  proto::LayerRecord record;
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(const bool got, reader->Next(&record));
    if (!got) break;
    for (int t = 0; t < record.token_ids_size(); ++t) {
      if (jsonl) AppendJsonRow(record, t, h.num_topk(), h.num_candidates(), &buffer);
      else AppendCsvRow(record, t, h.num_topk(), h.num_candidates(), &buffer);
      if (buffer.size() >= kFlushBytes) EPSIM_RETURN_IF_ERROR(file.Write(&buffer));
    }
  }
  EPSIM_RETURN_IF_ERROR(file.Write(&buffer));
  return file.Commit();
}

}  // namespace epsim::trace
