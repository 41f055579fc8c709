#include "sim/placement/placement_file.h"

#include <google/protobuf/text_format.h>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/trace/format.h"

namespace epsim::placement {
namespace {

Result<Placement> LayerFromProto(const proto::PlacementFile& file,
                                 const proto::LayerPlacement& layer, const std::string& where) {
  if (static_cast<uint32_t>(layer.experts_size()) != file.num_experts())
    return Status::BadInput(fmt::format("{}: lists {} experts, expected num_experts {}", where,
                                        layer.experts_size(), file.num_experts()));
  std::vector<std::vector<uint32_t>> ranks(file.num_experts());
  for (uint32_t e = 0; e < file.num_experts(); ++e)
    ranks[e].assign(layer.experts(e).ranks().begin(), layer.experts(e).ranks().end());
  auto p = Placement::MakeReplicated(file.algorithm(), file.num_ranks(), std::move(ranks));
  if (!p.ok()) return p.status().WithContext(where);
  return p;
}

proto::LayerPlacement LayerToProto(const Placement& p) {
  proto::LayerPlacement out;
  for (uint32_t e = 0; e < p.num_experts(); ++e) {
    proto::ExpertReplicas* x = out.add_experts();
    for (uint32_t r : p.RanksOf(e)) x->add_ranks(r);
  }
  return out;
}

}  // namespace

Result<LayerPlacements> FromProto(const proto::PlacementFile& file, const std::string& where) {
  if (file.num_experts() == 0 || file.num_ranks() == 0)
    return Status::BadInput(where + ": num_experts and num_ranks must be > 0");
  // Before anything is sized by them.
  if (file.num_experts() > trace::kMaxTraceExperts || file.num_ranks() > kMaxPlacementRanks)
    return Status::BadInput(fmt::format(
        "{}: num_experts {} and num_ranks {}: at most {} experts and {} ranks", where,
        file.num_experts(), file.num_ranks(), trace::kMaxTraceExperts, kMaxPlacementRanks));
  if (file.fallback().experts_size() == 0 && file.layers_size() == 0)
    return Status::BadInput(where + ": no layers and no fallback");
  const proto::LayerPlacement& base =
      file.fallback().experts_size() > 0 ? file.fallback() : file.layers(0);
  EPSIM_ASSIGN_OR_RETURN(Placement fallback, LayerFromProto(file, base, where + ": fallback"));
  LayerPlacements out(std::move(fallback));
  uint32_t previous = 0;
  for (int i = 0; i < file.layers_size(); ++i) {
    const proto::LayerPlacement& l = file.layers(i);
    const std::string here = fmt::format("{}: layer {}", where, l.layer());
    if (i > 0 && l.layer() <= previous)
      return Status::BadInput(here + ": layers must be listed in ascending order, once each");
    previous = l.layer();
    EPSIM_ASSIGN_OR_RETURN(Placement p, LayerFromProto(file, l, here));
    EPSIM_RETURN_IF_ERROR(out.Set(l.layer(), std::move(p)));
  }
  return out;
}

Result<LayerPlacements> ReadPlacementFile(const std::string& path) {
  proto::PlacementFile file;
  EPSIM_RETURN_IF_ERROR(ReadTextProto(path, &file));
  return FromProto(file, path);
}

proto::PlacementFile ToProto(const LayerPlacements& placements) {
  proto::PlacementFile file;
  file.set_algorithm(placements.name());
  file.set_num_experts(placements.num_experts());
  file.set_num_ranks(placements.num_ranks());
  *file.mutable_fallback() = LayerToProto(placements.fallback());
  for (const auto& [layer, p] : placements.per_layer()) {
    proto::LayerPlacement* l = file.add_layers();
    *l = LayerToProto(p);
    l->set_layer(layer);
  }
  return file;
}

Status WritePlacementFile(const std::string& path, const proto::PlacementFile& file) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(file, &text))
    return Status::Internal("cannot print placement file");
  return WriteFileAtomically(path, "# proto-file: sim/proto/placement.proto\n"
                                   "# proto-message: epsim.proto.PlacementFile\n" + text);
}

}  // namespace epsim::placement
