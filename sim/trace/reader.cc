#include "sim/base/output_file.h"
#include "sim/trace/reader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <map>

#include "sim/trace/format.h"

namespace epsim::trace {

namespace {

enum class ReadOutcome { kMessage, kEnd, kTruncated, kTooLarge };

// Reads a base-128 varint. kEnd only when the stream ends before its first
// byte; ending inside it is truncation.
ReadOutcome ReadVarint(std::istream& in, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    const int c = in.get();
    if (c == std::istream::traits_type::eof())
      return shift == 0 ? ReadOutcome::kEnd : ReadOutcome::kTruncated;
    *value |= static_cast<uint64_t>(c & 0x7f) << shift;
    if ((c & 0x80) == 0) return ReadOutcome::kMessage;
  }
  return ReadOutcome::kTooLarge;  // more than 10 bytes: not a length
}

// Reads one length-prefixed message body into `buffer`.
ReadOutcome ReadFramed(std::istream& in, std::string* buffer) {
  uint64_t size = 0;
  ReadOutcome outcome = ReadVarint(in, &size);
  if (outcome != ReadOutcome::kMessage) return outcome;
  if (size > kMaxMessageBytes) return ReadOutcome::kTooLarge;
  // Grow with the bytes actually read: a corrupt length prefix must not
  // allocate more than the file holds.
  buffer->clear();
  while (buffer->size() < size) {
    const size_t have = buffer->size();
    const size_t want =
        static_cast<size_t>(std::min<uint64_t>(size - have, std::max<size_t>(have, 4096)));
    buffer->resize(have + want);
    in.read(buffer->data() + have, static_cast<std::streamsize>(want));
    if (static_cast<size_t>(in.gcount()) != want) return ReadOutcome::kTruncated;
  }
  return ReadOutcome::kMessage;
}

// An ids-only trace in memory: 1 / num_topk for the selected experts, 0 for
// further candidates (reader.h).
void FillUniformWeights(const proto::TraceHeader& header, proto::LayerRecord& record) {
  const uint32_t c = header.num_candidates(), k = header.num_topk();
  auto* w = record.mutable_topk_weights();
  w->Resize(record.token_ids_size() * static_cast<int>(c), 0.0f);
  const float uniform = 1.0f / static_cast<float>(k);
  for (int t = 0; t < record.token_ids_size(); ++t)
    for (uint32_t i = 0; i < k; ++i) w->Set(t * static_cast<int>(c) + static_cast<int>(i), uniform);
}

}  // namespace

class TraceReader::Impl {
 public:
  explicit Impl(std::string path) : path_(std::move(path)) {}

  Status Open();
  Result<bool> Next(proto::LayerRecord* record);
  const proto::TraceHeader& header() const { return header_; }

 private:
  // Reads message number record_ into buffer_ and, unless null, `msg`;
  // false at a clean end. Checks
  // the checksum of a version-2 message (`checksummed`). Callers advance
  // record_ once the message is accepted.
  Result<bool> ReadMessage(google::protobuf::MessageLite* msg, bool checksummed);
  Status CheckRecord(proto::LayerRecord& record);
  Status CheckRows(const proto::LayerRecord& record);
  Status CheckCountsAtEnd() const;
  std::string Where() const { return fmt::format("{}: record {}", path_, record_); }

  const std::string path_;
  std::ifstream in_;
  std::string buffer_;
  proto::TraceHeader header_;
  uint64_t record_ = 0;  // number of the message being read; the header is 0
  std::map<uint32_t, uint64_t> seen_tokens_;  // by layer, only layers in the header
  uint64_t step_ = 0;                         // step of the last record
};

Status TraceReader::Impl::Open() {
  EPSIM_RETURN_IF_ERROR(CheckInputPath(path_));
  in_.open(path_, std::ios::binary);
  if (!in_) return Status::NotFound(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
  // The version is inside the header: a message ending in a valid checksum
  // is a version-2 header; anything else must parse as version 1.
  EPSIM_ASSIGN_OR_RETURN(bool got, ReadMessage(nullptr, /*checksummed=*/false));
  if (!got) return Status::BadInput(path_ + ": empty file (no trace header)");
  const Status checksum = VerifyChecksum(buffer_);
  if (!header_.ParseFromString(buffer_))
    return Status::BadInput(path_ + ": record 0 (header): malformed message" +
                            (checksum.ok() ? "" : " (" + checksum.message() + ")"));
  if (header_.version() >= 2 && header_.version() <= kTraceVersion && !checksum.ok())
    return checksum.WithContext(path_ + ": record 0 (header)");
  Status st = ValidateHeader(header_);
  if (!st.ok()) return st.WithContext(path_ + ": record 0 (header)");
  record_ = 1;
  for (const proto::LayerInfo& info : header_.layers()) seen_tokens_[info.layer()] = 0;
  return Status::Ok();
}

Result<bool> TraceReader::Impl::ReadMessage(google::protobuf::MessageLite* msg,
                                            bool checksummed) {
  switch (ReadFramed(in_, &buffer_)) {
    case ReadOutcome::kEnd:
      if (in_.bad()) return Status::IoError(Where() + ": read failed");
      return false;
    case ReadOutcome::kTruncated:
      return Status::BadInput(Where() + ": truncated");
    case ReadOutcome::kTooLarge:
      return Status::BadInput(Where() + ": corrupt length prefix");
    case ReadOutcome::kMessage:
      break;
  }
  if (checksummed) {
    Status st = VerifyChecksum(buffer_);
    if (!st.ok()) return st.WithContext(Where());
  }
  if (msg != nullptr && !msg->ParseFromString(buffer_))
    return Status::BadInput(Where() + ": malformed message");
  return true;
}

Result<bool> TraceReader::Impl::Next(proto::LayerRecord* record) {
  EPSIM_ASSIGN_OR_RETURN(bool got, ReadMessage(record, header_.version() >= 2));
  if (!got) {
    EPSIM_RETURN_IF_ERROR(CheckCountsAtEnd());
    return false;
  }
  EPSIM_RETURN_IF_ERROR(CheckRecord(*record));
  ++record_;
  return true;
}

Status TraceReader::Impl::CheckRecord(proto::LayerRecord& record) {
  const uint32_t layer = record.layer();
  auto it = seen_tokens_.find(layer);
  const std::string where = fmt::format("{} (layer {})", Where(), layer);
  if (it == seen_tokens_.end()) return Status::BadInput(where + ": layer not listed in header");
  if (record.step() < step_)
    return Status::BadInput(
        fmt::format("{}: step {} after step {} (steps must not go down)", where, record.step(),
                    step_));
  if (record.step() > 0 && record.step() >= header_.num_steps())
    return Status::BadInput(fmt::format("{}: step {} but the header says {} step(s)", where,
                                        record.step(), std::max<uint64_t>(header_.num_steps(), 1)));
  const size_t n = record.token_ids_size();
  const size_t cells = n * header_.num_candidates();
  const size_t weights = header_.scores_absent() ? 0 : cells;
  if (static_cast<size_t>(record.sequence_ids_size()) != n ||
      static_cast<size_t>(record.topk_idx_size()) != cells ||
      static_cast<size_t>(record.topk_weights_size()) != weights)
    return Status::BadInput(fmt::format(
        "{}: array lengths disagree: {} token_ids, {} sequence_ids, {} topk_idx, {} "
        "topk_weights (num_candidates {}{})",
        where, n, record.sequence_ids_size(), record.topk_idx_size(),
        record.topk_weights_size(), header_.num_candidates(),
        header_.scores_absent() ? ", no scores" : ""));
  step_ = record.step();
  if (header_.scores_absent()) FillUniformWeights(header_, record);
  EPSIM_RETURN_IF_ERROR(CheckRows(record));
  it->second += n;
  return Status::Ok();
}

Status TraceReader::Impl::CheckRows(const proto::LayerRecord& record) {
  const uint32_t c = header_.num_candidates();
  for (int t = 0; t < record.token_ids_size(); ++t) {
    Status st = CheckRow(header_, record.topk_idx().data() + t * c,
                         record.topk_weights().data() + t * c);
    if (!st.ok())
      return st.WithContext(
          fmt::format("{} (layer {}, token {})", Where(), record.layer(), record.token_ids(t)));
  }
  return Status::Ok();
}

Status TraceReader::Impl::CheckCountsAtEnd() const {
  for (const proto::LayerInfo& info : header_.layers()) {
    const uint64_t seen = seen_tokens_.at(info.layer());
    if (seen != info.num_tokens())
      return Status::BadInput(fmt::format("{}: layer {}: {} tokens in records, header says {}",
                                          path_, info.layer(), seen, info.num_tokens()));
  }
  return Status::Ok();
}

TraceReader::TraceReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceReader::~TraceReader() = default;

Result<std::unique_ptr<TraceReader>> TraceReader::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>(path);
  EPSIM_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<TraceReader>(new TraceReader(std::move(impl)));
}

const proto::TraceHeader& TraceReader::header() const { return impl_->header(); }

Result<bool> TraceReader::Next(proto::LayerRecord* record) { return impl_->Next(record); }

Result<Trace> ReadTrace(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, TraceReader::Open(path));
  Trace trace;
  trace.header = reader->header();
  std::map<uint32_t, size_t> index;  // layer -> position in trace.layers
  for (const proto::LayerInfo& info : trace.header.layers()) {
    index[info.layer()] = trace.layers.size();
    LayerRouting& l = trace.layers.emplace_back();
    l.layer = info.layer();
    l.num_topk = trace.header.num_topk();
    l.num_candidates = trace.header.num_candidates();
  }
  proto::LayerRecord record;
  const bool stepped = trace.header.num_steps() > 1;
  while (true) {
    EPSIM_ASSIGN_OR_RETURN(bool got, reader->Next(&record));
    if (!got) break;
    LayerRouting& l = trace.layers[index.at(record.layer())];
    if (stepped) l.BeginStep(record.step());
    l.AppendRecord(record);
  }
  return trace;
}

Status ValidateHeader(const proto::TraceHeader& header) {
  if (header.version() < kOldestTraceVersion || header.version() > kTraceVersion)
    return Status::BadInput(fmt::format("version {} (this epsim reads versions {} to {})",
                                        header.version(), kOldestTraceVersion, kTraceVersion));
  if (header.version() < 2 && (header.scores_absent() || header.num_steps() != 0))
    return Status::BadInput("a version-1 header with version-2 fields (scores_absent, num_steps)");
  if (header.num_experts() == 0) return Status::BadInput("num_experts is 0");
  if (header.num_experts() > kMaxTraceExperts)
    return Status::BadInput(fmt::format("num_experts {} is above {}, more than any model has",
                                        header.num_experts(), kMaxTraceExperts));
  if (header.num_topk() == 0) return Status::BadInput("num_topk is 0");
  if (header.num_topk() > header.num_candidates())
    return Status::BadInput(fmt::format("num_topk {} > num_candidates {}", header.num_topk(),
                                        header.num_candidates()));
  if (header.num_candidates() > header.num_experts())
    return Status::BadInput(fmt::format("num_candidates {} > num_experts {}",
                                        header.num_candidates(), header.num_experts()));
  if (header.num_layers() != static_cast<uint32_t>(header.layers_size()))
    return Status::BadInput(fmt::format("num_layers {} but {} layers listed",
                                        header.num_layers(), header.layers_size()));
  if (header.layers_size() > 0 && header.layers(header.layers_size() - 1).layer() >= kMaxTraceLayers)
    return Status::BadInput(fmt::format("layer {} is above {}, the largest layer id a trace may hold",
                                        header.layers(header.layers_size() - 1).layer(),
                                        kMaxTraceLayers - 1));
  for (int i = 1; i < header.layers_size(); ++i) {
    if (header.layers(i).layer() <= header.layers(i - 1).layer())
      return Status::BadInput(fmt::format("layers not ascending and unique: {} after {}",
                                          header.layers(i).layer(),
                                          header.layers(i - 1).layer()));
  }
  if (header.version() >= 2 && header.num_steps() == 0) {
    for (const proto::LayerInfo& info : header.layers())
      if (info.num_tokens() > 0)
        return Status::BadInput(fmt::format("num_steps 0, but layer {} has {} tokens",
                                            info.layer(), info.num_tokens()));
  }
  return Status::Ok();
}

}  // namespace epsim::trace
