#include "sim/trace/writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <vector>

#include "sim/base/fatal_cleanup.h"
#include "sim/trace/format.h"
#include "sim/trace/reader.h"

namespace epsim::trace {

namespace {

Status IoErrorFor(const std::string& path, const std::string& what) {
  return Status::IoError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

// Room reserved for the header: its size without layers, plus 12 bytes for
// each of up to 1024 layers (a LayerInfo takes at most 2 + 6 + 11 bytes, 7
// for the layer counts real models have), rounded up to 4 KiB.
size_t HeaderRoom(const proto::TraceHeader& header) {
  const size_t want = header.ByteSizeLong() + 64 + 12 * 1024;
  return (want + 4095) / 4096 * 4096;
}

// Serializes `header` (checksum last) to exactly `room` bytes, length
// prefix included, by sizing its padding; false when it cannot fit.
bool SerializeHeaderInto(proto::TraceHeader header, size_t room, std::string* out) {
  header.clear_padding();
  header.clear_checksum();
  const size_t base = header.ByteSizeLong();
  for (size_t prefix = 1; prefix <= 5; ++prefix) {
    if (room <= prefix) return false;
    const size_t length = room - prefix;
    if (VarintSize(length) != prefix || length < base + kChecksumBytes) continue;
    const size_t pad_field = length - base - kChecksumBytes;  // tag + varint + bytes
    if (pad_field == 1) continue;
    if (pad_field >= 2) {
      bool fitted = false;
      for (size_t pl = 1; pl <= 5 && !fitted; ++pl) {
        if (pad_field < 1 + pl) break;
        const size_t p = pad_field - 1 - pl;
        if (VarintSize(p) == pl) header.set_padding(std::string(p, '\0')), fitted = true;
      }
      if (!fitted) continue;
    }
    std::string body;
    if (!header.SerializeToString(&body)) return false;
    AppendChecksum(&body);
    out->clear();
    AppendVarint(body.size(), out);
    out->append(body);
    return out->size() == room;
  }
  return false;
}

}  // namespace

class TraceWriter::Impl {
 public:
  Impl(std::string path, proto::TraceHeader header)
      : path_(std::move(path)),
        header_(std::move(header)),
        temp_path_(fmt::format("{}.tmp.{}", path_, ::getpid())),
        copy_path_(fmt::format("{}.tmp2.{}", path_, ::getpid())) {}

  // Removes the temporaries unless Finish() renamed the output into place.
  ~Impl() {
    if (fd_ >= 0) ::close(fd_);
    if (!finished_) std::remove(temp_path_.c_str());
    std::remove(copy_path_.c_str());
    RemoveFatalCleanup(temp_path_);
    RemoveFatalCleanup(copy_path_);
  }

  Status Open();
  Status SetStep(uint64_t step);
  Status Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id, const uint32_t* idx,
             const float* weights);
  Status Finish();
  const proto::TraceHeader& header() const { return header_; }

 private:
  // One layer's rows not yet written (fewer than kRecordTokens).
  struct PendingRecord {
    std::vector<uint64_t> token_ids, sequence_ids;
    std::vector<uint32_t> topk_idx;
    std::vector<float> topk_weights;
  };
  Status Flush(uint32_t layer, PendingRecord* record);
  Status FlushAll();
  Status WriteOut();
  Status WriteHeader();
  Status CopyBehindHeader(const std::string& header_bytes);

  const std::string path_;
  proto::TraceHeader header_;
  const std::string temp_path_;  // header room + records, renamed to path_
  const std::string copy_path_;  // only when the header outgrows its room
  int fd_ = -1;
  size_t room_ = 0;
  std::string out_;              // framed records not yet written
  std::map<uint32_t, PendingRecord> pending_;  // by layer
  std::map<uint32_t, uint64_t> num_tokens_;    // by layer
  PendingRecord* last_record_ = nullptr;       // pending_[last_layer_]
  uint64_t* last_count_ = nullptr;                  // num_tokens_[last_layer_]
  uint32_t last_layer_ = 0;
  uint64_t step_ = 0;
  bool any_rows_ = false;
  bool finished_ = false;
  bool failed_ = false;  // a write failed: Finish() must not pretend otherwise
};

Status TraceWriter::Impl::Open() {
  RemoveStaleTemporaries(path_);
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return IoErrorFor(path_, "cannot create temporary " + temp_path_);
  // A stop from a signal (a mapped input that shrank) removes them too.
  AddFatalCleanup(temp_path_);
  AddFatalCleanup(copy_path_);
  room_ = HeaderRoom(header_);
  out_.assign(room_, '\0');  // the header's room, overwritten by Finish()
  return Status::Ok();
}

Status TraceWriter::Impl::SetStep(uint64_t step) {
  if (step < step_)
    return Status::Internal(fmt::format("{}: step {} after step {}", path_, step, step_));
  if (step == step_) return Status::Ok();
  EPSIM_RETURN_IF_ERROR(FlushAll());
  step_ = step;
  return Status::Ok();
}

Status TraceWriter::Impl::Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id,
                              const uint32_t* idx, const float* weights) {
  if (finished_) return Status::Internal(path_ + ": Add() after Finish()");
  const bool scores = !header_.scores_absent();
  const float* checked_weights = scores ? weights : nullptr;
  if (!RowIsPlain(header_, idx, checked_weights)) {
    Status st = CheckRow(header_, idx, checked_weights);
    if (!st.ok()) return st.WithContext(fmt::format("layer {}, token {}", layer, token_id));
  }
  const uint32_t n = header_.num_candidates();
  // Rows mostly come in runs of one layer: the last layer's record and count
  // are kept at hand (std::map nodes do not move).
  if (last_record_ == nullptr || layer != last_layer_) {
    if (layer >= kMaxTraceLayers)
      return Status::BadInput(fmt::format("layer {} is above {}, the largest layer id a trace may "
                                          "hold",
                                          layer, kMaxTraceLayers - 1));
    last_record_ = &pending_[layer];
    last_count_ = &num_tokens_[layer];
    last_layer_ = layer;
  }
  PendingRecord& record = *last_record_;
  record.token_ids.push_back(token_id);
  record.sequence_ids.push_back(sequence_id);
  record.topk_idx.insert(record.topk_idx.end(), idx, idx + n);
  if (scores) record.topk_weights.insert(record.topk_weights.end(), weights, weights + n);
  ++*last_count_;
  any_rows_ = true;
  if (record.token_ids.size() >= kRecordTokens) return Flush(layer, &record);
  return Status::Ok();
}

// Frames the record: length, the LayerRecord's bytes, its checksum.
Status TraceWriter::Impl::Flush(uint32_t layer, PendingRecord* record) {
  if (record->token_ids.empty()) return Status::Ok();
  RecordColumns columns;
  columns.layer = layer;
  columns.step = step_;
  columns.token_ids = record->token_ids.data();
  columns.sequence_ids = record->sequence_ids.data();
  columns.num_tokens = record->token_ids.size();
  columns.topk_idx = record->topk_idx.data();
  columns.num_idx = record->topk_idx.size();
  columns.topk_weights = record->topk_weights.data();
  columns.num_weights = record->topk_weights.size();
  AppendFramedLayerRecord(columns, &out_);
  record->token_ids.clear();
  record->sequence_ids.clear();
  record->topk_idx.clear();
  record->topk_weights.clear();
  if (out_.size() >= (size_t{1} << 20)) return WriteOut();
  return Status::Ok();
}

Status TraceWriter::Impl::FlushAll() {
  for (auto& [layer, record] : pending_) EPSIM_RETURN_IF_ERROR(Flush(layer, &record));
  return Status::Ok();
}

Status TraceWriter::Impl::WriteOut() {
  size_t done = 0;
  while (done < out_.size()) {
    const ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      return IoErrorFor(temp_path_, "write failed");
    }
    done += static_cast<size_t>(n);
  }
  out_.clear();
  return Status::Ok();
}

Status TraceWriter::Impl::Finish() {
  if (finished_) return Status::Internal(path_ + ": Finish() called twice");
  if (failed_) return Status::IoError(path_ + ": an earlier write failed");
  EPSIM_RETURN_IF_ERROR(FlushAll());
  EPSIM_RETURN_IF_ERROR(WriteOut());
  header_.clear_layers();
  for (const auto& [layer, count] : num_tokens_) {  // std::map: ascending layers
    proto::LayerInfo* info = header_.add_layers();
    info->set_layer(layer);
    info->set_num_tokens(count);
  }
  header_.set_num_layers(static_cast<uint32_t>(header_.layers_size()));
  header_.set_num_steps(any_rows_ ? step_ + 1 : 0);
  EPSIM_RETURN_IF_ERROR(WriteHeader());
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    return IoErrorFor(path_, "cannot rename into place");
  RemoveFatalCleanup(temp_path_);  // now the output: a later stop keeps it
  finished_ = true;
  return Status::Ok();
}

Status TraceWriter::Impl::WriteHeader() {
  std::string bytes;
  if (!SerializeHeaderInto(header_, room_, &bytes)) {
    // Outgrew its room: header, then the records copied behind it.
    proto::TraceHeader h = header_;
    std::string body;
    h.clear_padding();
    h.clear_checksum();
    if (!h.SerializeToString(&body)) return Status::Internal(path_ + ": cannot serialize");
    AppendChecksum(&body);
    AppendVarint(body.size(), &bytes);
    bytes.append(body);
    return CopyBehindHeader(bytes);
  }
  if (::pwrite(fd_, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    return IoErrorFor(temp_path_, "write failed");
  if (::close(fd_) != 0) {
    fd_ = -1;
    return IoErrorFor(temp_path_, "write failed");
  }
  fd_ = -1;
  return Status::Ok();
}

Status TraceWriter::Impl::CopyBehindHeader(const std::string& header_bytes) {
  ::close(fd_);
  fd_ = -1;
  const int in = ::open(temp_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return IoErrorFor(temp_path_, "cannot reopen");
  const int out = ::open(copy_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return IoErrorFor(copy_path_, "cannot create");
  }
  bool ok = ::write(out, header_bytes.data(), header_bytes.size()) ==
            static_cast<ssize_t>(header_bytes.size());
  std::vector<char> buffer(1 << 20);
  off_t offset = static_cast<off_t>(room_);
  while (ok) {
    const ssize_t n = ::pread(in, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    ok = ::write(out, buffer.data(), static_cast<size_t>(n)) == n;
    offset += n;
  }
  ::close(in);
  ok = (::close(out) == 0) && ok;
  if (!ok) return IoErrorFor(copy_path_, "write failed");
  if (std::rename(copy_path_.c_str(), temp_path_.c_str()) != 0)
    return IoErrorFor(temp_path_, "cannot rename");
  return Status::Ok();
}

TraceWriter::TraceWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceWriter::~TraceWriter() = default;

Result<std::unique_ptr<TraceWriter>> TraceWriter::Create(const std::string& path,
                                                         const proto::TraceHeader& header) {
  proto::TraceHeader h = header;
  h.set_version(kTraceVersion);
  h.clear_layers();
  h.set_num_layers(0);
  h.set_num_steps(0);
  h.clear_padding();
  h.clear_checksum();
  Status st = ValidateHeader(h);
  if (!st.ok()) return st.WithContext(path);
  auto impl = std::make_unique<Impl>(path, std::move(h));
  EPSIM_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<TraceWriter>(new TraceWriter(std::move(impl)));
}

Status TraceWriter::SetStep(uint64_t step) { return impl_->SetStep(step); }

Status TraceWriter::Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id,
                        const uint32_t* idx, const float* weights) {
  return impl_->Add(layer, token_id, sequence_id, idx, weights);
}

namespace {

Status CheckShape(const proto::TraceHeader& h, const LayerRouting& layer) {
  if (layer.num_topk != h.num_topk() || layer.num_candidates != h.num_candidates())
    return Status::BadInput(fmt::format(
        "layer {}: num_topk {} / num_candidates {} differ from the header's {} / {}",
        layer.layer, layer.num_topk, layer.num_candidates, h.num_topk(), h.num_candidates()));
  const size_t n = layer.num_tokens();
  if (layer.sequence_ids.size() != n || layer.topk_idx.size() != n * layer.num_candidates ||
      layer.topk_weights.size() != n * layer.num_candidates)
    return Status::BadInput(fmt::format("layer {}: array lengths disagree", layer.layer));
  size_t covered = 0;
  for (size_t i = 0; i < layer.steps.size(); ++i) {
    if (layer.steps[i].first != covered || (i > 0 && layer.steps[i].step <= layer.steps[i - 1].step))
      return Status::BadInput(fmt::format("layer {}: steps do not cover the rows in order",
                                          layer.layer));
    covered += layer.steps[i].count;
  }
  if (!layer.steps.empty() && covered != n)
    return Status::BadInput(fmt::format("layer {}: steps cover {} of {} rows", layer.layer,
                                        covered, n));
  return Status::Ok();
}

Status AddRows(TraceWriter* writer, const LayerRouting& layer, size_t first, size_t count) {
  for (size_t t = first; t < first + count; ++t) {
    EPSIM_RETURN_IF_ERROR(writer->Add(layer.layer, layer.token_ids[t], layer.sequence_ids[t],
                                    layer.topk(t), layer.weights(t)));
  }
  return Status::Ok();
}

}  // namespace

Status TraceWriter::AddLayer(const LayerRouting& layer) {
  EPSIM_RETURN_IF_ERROR(CheckShape(impl_->header(), layer));
  if (layer.steps.empty()) return AddRows(this, layer, 0, layer.num_tokens());
  for (const StepRows& s : layer.steps) {
    EPSIM_RETURN_IF_ERROR(SetStep(s.step));
    EPSIM_RETURN_IF_ERROR(AddRows(this, layer, s.first, s.count));
  }
  return Status::Ok();
}

Status TraceWriter::Finish() { return impl_->Finish(); }

Status WriteTrace(const std::string& path, const Trace& trace) {
  EPSIM_ASSIGN_OR_RETURN(auto writer, TraceWriter::Create(path, trace.header));
  bool stepped = false;
  for (const LayerRouting& layer : trace.layers) stepped = stepped || !layer.steps.empty();
  if (!stepped) {
    for (const LayerRouting& layer : trace.layers) {
      Status st = writer->AddLayer(layer);
      if (!st.ok()) return st.WithContext(path);
    }
    return writer->Finish();
  }
  // Steps in ascending order across layers: step by step, every layer's rows.
  std::set<uint64_t> steps;
  for (const LayerRouting& layer : trace.layers) {
    Status st = CheckShape(trace.header, layer);
    if (!st.ok()) return st.WithContext(path);
    if (layer.steps.empty() && layer.num_tokens() > 0) steps.insert(0);
    for (const StepRows& s : layer.steps) steps.insert(s.step);
  }
  std::vector<size_t> next(trace.layers.size(), 0);  // next StepRows per layer
  for (uint64_t step : steps) {
    EPSIM_RETURN_IF_ERROR(writer->SetStep(step));
    for (size_t i = 0; i < trace.layers.size(); ++i) {
      const LayerRouting& layer = trace.layers[i];
      Status st = Status::Ok();
      if (layer.steps.empty()) {
        if (step == 0) st = AddRows(writer.get(), layer, 0, layer.num_tokens());
      } else if (next[i] < layer.steps.size() && layer.steps[next[i]].step == step) {
        const StepRows& s = layer.steps[next[i]++];
        st = AddRows(writer.get(), layer, s.first, s.count);
      }
      if (!st.ok()) return st.WithContext(path);
    }
  }
  return writer->Finish();
}

}  // namespace epsim::trace
