#include "sim/plan/stream_count.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <google/protobuf/util/message_differencer.h>

#include "sim/base/parallel.h"
#include "sim/trace/reader.h"

namespace epsim::plan {
namespace {

trace::LayerRouting EmptyLayer(const proto::TraceHeader& h, uint32_t layer) {
  trace::LayerRouting l;
  l.layer = layer;
  l.num_topk = h.num_topk();
  l.num_candidates = h.num_candidates();
  return l;
}

// Full layers waiting for a worker, and emptied buffers waiting for the
// reader. The reader blocks while `max_waiting` full layers wait.
class LayerQueue {
 public:
  explicit LayerQueue(size_t max_waiting) : max_waiting_(max_waiting) {}

  // False when the queue was stopped.
  bool Push(size_t index, std::unique_ptr<trace::LayerRouting> layer) {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return stopped_ || full_.size() < max_waiting_; });
    if (stopped_) return false;
    full_.emplace_back(index, std::move(layer));
    ready_.notify_one();
    return true;
  }
  // The next full layer; nullopt once the queue is closed and drained, or
  // stopped.
  std::optional<std::pair<size_t, std::unique_ptr<trace::LayerRouting>>> Pop() {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [&] { return stopped_ || closed_ || !full_.empty(); });
    if (stopped_ || full_.empty()) return std::nullopt;
    auto item = std::move(full_.front());
    full_.pop_front();
    room_.notify_one();
    return item;
  }
  void Recycle(std::unique_ptr<trace::LayerRouting> layer) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(layer));
  }
  std::unique_ptr<trace::LayerRouting> Reuse() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return nullptr;
    auto l = std::move(free_.back());
    free_.pop_back();
    return l;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    ready_.notify_all();
    room_.notify_all();
  }

 private:
  const size_t max_waiting_;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::pair<size_t, std::unique_ptr<trace::LayerRouting>>> full_;
  std::vector<std::unique_ptr<trace::LayerRouting>> free_;
  bool closed_ = false, stopped_ = false;
};

}  // namespace

Result<trace::Trace> ReadTraceSkeleton(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(path));
  trace::Trace out;
  out.header = reader->header();
  for (const proto::LayerInfo& info : out.header.layers())
    out.layers.push_back(EmptyLayer(out.header, info.layer()));
  return out;
}

Result<std::vector<std::vector<CountedLayer>>> CountStreamed(const std::string& path,
                                                             const std::vector<PlanInputs>& plans) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(path));
  const proto::TraceHeader& header = reader->header();
  for (const PlanInputs& p : plans)
    if (!google::protobuf::util::MessageDifferencer::Equals(p.trace.header, header))
      return Status::BadInput(fmt::format(
          "{}: changed while it was read (its header is not the one read before)", path));
  const size_t num_layers = static_cast<size_t>(header.layers_size());
  for (const PlanInputs& p : plans)
    if (p.trace.layers.size() != num_layers || p.pass == Pass::kDecode ||
        p.strategy.luffy() != nullptr)
      return Status::Internal("streamed counting needs a prefill or train plan of the file's "
                              "layers, without Luffy");
  std::map<uint32_t, size_t> index;
  std::vector<uint64_t> expected(num_layers);
  for (size_t i = 0; i < num_layers; ++i) {
    index[header.layers(static_cast<int>(i)).layer()] = i;
    expected[i] = header.layers(static_cast<int>(i)).num_tokens();
  }

  std::vector<std::vector<CountedLayer>> counted(plans.size(),
                                                 std::vector<CountedLayer>(num_layers));
  // Per layer, the first plan's error; the first layer's is returned.
  std::vector<std::optional<Status>> errors(num_layers);
  const size_t workers = std::max<size_t>(1, WorkerThreads());
  LayerQueue queue(1);  // one full layer waits: the reader is rarely ahead of the workers
  auto work = [&] {
    while (auto item = queue.Pop()) {
      auto& [i, layer] = *item;
      for (size_t s = 0; s < plans.size(); ++s) {
        Result<CountedLayer> c = CountForPlan(*layer, plans[s]);
        if (!c.ok()) {
          errors[i] = c.status();
          break;
        }
        counted[s][i] = std::move(c).value();
      }
      layer->token_ids.clear();
      layer->sequence_ids.clear();
      layer->topk_idx.clear();
      layer->topk_weights.clear();
      queue.Recycle(std::move(layer));
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 0; t < workers; ++t) pool.emplace_back(work);

  Status read_status = [&]() -> Status {
    std::vector<std::unique_ptr<trace::LayerRouting>> filling(num_layers);
    std::vector<uint64_t> received(num_layers, 0);
    proto::LayerRecord record;
    while (true) {
      EPSIM_ASSIGN_OR_RETURN(bool got, reader->Next(&record));
      if (!got) return Status::Ok();  // the reader checked every layer's count
      const size_t i = index.at(record.layer());
      std::unique_ptr<trace::LayerRouting>& l = filling[i];
      if (l == nullptr) {
        l = queue.Reuse();
        if (l == nullptr) l = std::make_unique<trace::LayerRouting>();
        l->layer = record.layer();
        l->num_topk = header.num_topk();
        l->num_candidates = header.num_candidates();
      }
      // Counted over the whole stream: rows of a layer already sent to the
      // workers must not start a second buffer of it.
      const uint64_t have = received[i] + static_cast<uint64_t>(record.token_ids_size());
      received[i] = have;
      if (have > expected[i])
        return Status::BadInput(fmt::format("{}: layer {}: records hold more than the {} tokens "
                                            "the header gives it", path, record.layer(),
                                            expected[i]));
      l->AppendRecord(record);
      if (have == expected[i] && !queue.Push(i, std::move(l))) return Status::Ok();
    }
  }();
  if (read_status.ok()) {
    queue.Close();
  } else {
    queue.Stop();
  }
  for (std::thread& t : pool) t.join();
  EPSIM_RETURN_IF_ERROR(read_status);
  for (size_t i = 0; i < num_layers; ++i) {
    if (errors[i]) return *errors[i];
    if (expected[i] == 0)  // no rows: counted as BuildSchedule would see it
      for (size_t s = 0; s < plans.size(); ++s) {
        counted[s][i].layer = header.layers(static_cast<int>(i)).layer();
        counted[s][i].num_tokens = 0;
      }
  }
  return counted;
}

}  // namespace epsim::plan
