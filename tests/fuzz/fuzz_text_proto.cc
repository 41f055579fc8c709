// The text-proto loaders with validation (topology and model files) on any
// bytes. Property: what loads prints and loads back to the same message
// (nothing a loader accepts depends on how it was spelled).
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "sim/plan/model.h"
#include "sim/topology/topology.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

template <typename Message, typename Load>
void RoundTrip(const std::string& path, const char* what, Load load) {
  const auto first = load(path);
  if (!first.ok()) return;
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(first.value(), &text))
    epsim::fuzz::PropertyFailed(what, "cannot print what loaded");
  const std::string again = epsim::fuzz::WriteInput(
      reinterpret_cast<const uint8_t*>(text.data()), text.size(), "again.textproto");
  const auto second = load(again);
  if (!second.ok()) epsim::fuzz::PropertyFailed(what, "printed form does not load: " +
                                                          second.status().ToString());
  if (!google::protobuf::util::MessageDifferencer::Equals(first.value(), second.value()))
    epsim::fuzz::PropertyFailed(what, "printed form loads to another message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = epsim::fuzz::WriteInput(data, size, "in.textproto");
  RoundTrip<epsim::proto::Topology>(path, "topology",
                                    [](const std::string& p) { return epsim::topology::LoadTopology(p); });
  RoundTrip<epsim::proto::Model>(path, "model",
                                 [](const std::string& p) { return epsim::plan::LoadModel(p); });
  return 0;
}
