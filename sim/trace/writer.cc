#include "sim/trace/writer.h"

#include <fmt/format.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "sim/trace/format.h"
#include "sim/trace/reader.h"

namespace epsim::trace {

namespace {

Status IoErrorFor(const std::string& path, const std::string& what) {
  return Status::IoError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

}  // namespace

class TraceWriter::Impl {
 public:
  Impl(std::string path, proto::TraceHeader header)
      : path_(std::move(path)),
        header_(std::move(header)),
        records_path_(fmt::format("{}.records.tmp.{}", path_, ::getpid())),
        final_path_(fmt::format("{}.tmp.{}", path_, ::getpid())) {}

  // Removes the temporaries unless Finish() renamed the output into place.
  ~Impl() {
    records_.close();
    std::remove(records_path_.c_str());
    if (!finished_) std::remove(final_path_.c_str());
  }

  Status Open();
  Status Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id, const uint32_t* idx,
             const float* weights);
  Status Finish();
  const proto::TraceHeader& header() const { return header_; }

 private:
  Status Flush(proto::LayerRecord* record);
  Status WriteFinal();

  const std::string path_;
  proto::TraceHeader header_;
  const std::string records_path_;  // LayerRecords, in the order they fill up
  const std::string final_path_;    // header + records, renamed to path_
  std::ofstream records_;
  std::map<uint32_t, proto::LayerRecord> pending_;  // by layer, < kRecordTokens rows
  std::map<uint32_t, uint64_t> num_tokens_;         // by layer
  bool finished_ = false;
  bool failed_ = false;  // a write failed: Finish() must not pretend otherwise
};

Status TraceWriter::Impl::Open() {
  records_.open(records_path_, std::ios::binary | std::ios::trunc);
  if (!records_) return IoErrorFor(path_, "cannot create temporary " + records_path_);
  return Status::Ok();
}

Status TraceWriter::Impl::Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id,
                              const uint32_t* idx, const float* weights) {
  if (finished_) return Status::Internal(path_ + ": Add() after Finish()");
  Status st = CheckRow(header_, idx, weights);
  if (!st.ok()) return st.WithContext(fmt::format("layer {}, token {}", layer, token_id));
  proto::LayerRecord& record = pending_[layer];
  record.set_layer(layer);
  record.add_token_ids(token_id);
  record.add_sequence_ids(sequence_id);
  const uint32_t n = header_.num_candidates();
  record.mutable_topk_idx()->Add(idx, idx + n);
  record.mutable_topk_weights()->Add(weights, weights + n);
  ++num_tokens_[layer];
  if (static_cast<size_t>(record.token_ids_size()) >= kRecordTokens) return Flush(&record);
  return Status::Ok();
}

Status TraceWriter::Impl::Flush(proto::LayerRecord* record) {
  if (record->token_ids_size() == 0) return Status::Ok();
  if (!google::protobuf::util::SerializeDelimitedToOstream(*record, &records_) || !records_) {
    failed_ = true;
    return IoErrorFor(records_path_, "write failed");
  }
  record->Clear();
  return Status::Ok();
}

Status TraceWriter::Impl::Finish() {
  if (finished_) return Status::Internal(path_ + ": Finish() called twice");
  if (failed_) return Status::IoError(path_ + ": an earlier write failed");
  for (auto& [layer, record] : pending_) EPSIM_RETURN_IF_ERROR(Flush(&record));
  records_.close();
  if (!records_) return IoErrorFor(records_path_, "write failed");
  header_.clear_layers();
  for (const auto& [layer, count] : num_tokens_) {  // std::map: ascending layers
    proto::LayerInfo* info = header_.add_layers();
    info->set_layer(layer);
    info->set_num_tokens(count);
  }
  header_.set_num_layers(static_cast<uint32_t>(header_.layers_size()));
  EPSIM_RETURN_IF_ERROR(WriteFinal());
  if (std::rename(final_path_.c_str(), path_.c_str()) != 0)
    return IoErrorFor(path_, "cannot rename into place");
  finished_ = true;
  return Status::Ok();
}

// The header must come first but is only known now, so the records written
// so far are copied behind it.
Status TraceWriter::Impl::WriteFinal() {
  std::ofstream out(final_path_, std::ios::binary | std::ios::trunc);
  if (!out) return IoErrorFor(final_path_, "cannot create");
  if (!google::protobuf::util::SerializeDelimitedToOstream(header_, &out))
    return IoErrorFor(final_path_, "write failed");
  std::ifstream in(records_path_, std::ios::binary);
  if (!in) return IoErrorFor(records_path_, "cannot reopen");
  if (in.peek() != std::ifstream::traits_type::eof()) out << in.rdbuf();
  out.close();
  if (!out || in.bad()) return IoErrorFor(final_path_, "write failed");
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
  Status st = ValidateHeader(h);
  if (!st.ok()) return st.WithContext(path);
  auto impl = std::make_unique<Impl>(path, std::move(h));
  EPSIM_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<TraceWriter>(new TraceWriter(std::move(impl)));
}

Status TraceWriter::Add(uint32_t layer, uint64_t token_id, uint64_t sequence_id,
                        const uint32_t* idx, const float* weights) {
  return impl_->Add(layer, token_id, sequence_id, idx, weights);
}

Status TraceWriter::AddLayer(const LayerRouting& layer) {
  const proto::TraceHeader& h = impl_->header();
  if (layer.num_topk != h.num_topk() || layer.num_candidates != h.num_candidates())
    return Status::BadInput(fmt::format(
        "layer {}: num_topk {} / num_candidates {} differ from the header's {} / {}",
        layer.layer, layer.num_topk, layer.num_candidates, h.num_topk(), h.num_candidates()));
  const size_t n = layer.num_tokens();
  if (layer.sequence_ids.size() != n || layer.topk_idx.size() != n * layer.num_candidates ||
      layer.topk_weights.size() != n * layer.num_candidates)
    return Status::BadInput(fmt::format("layer {}: array lengths disagree", layer.layer));
  for (size_t t = 0; t < n; ++t) {
    EPSIM_RETURN_IF_ERROR(impl_->Add(layer.layer, layer.token_ids[t], layer.sequence_ids[t],
                                     layer.topk(t), layer.weights(t)));
  }
  return Status::Ok();
}

Status TraceWriter::Finish() { return impl_->Finish(); }

Status WriteTrace(const std::string& path, const Trace& trace) {
  EPSIM_ASSIGN_OR_RETURN(auto writer, TraceWriter::Create(path, trace.header));
  for (const LayerRouting& layer : trace.layers) {
    Status st = writer->AddLayer(layer);
    if (!st.ok()) return st.WithContext(path);
  }
  return writer->Finish();
}

}  // namespace epsim::trace
