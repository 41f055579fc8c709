#include "sim/placement/topology_groups.h"

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "sim/topology/topology.h"

namespace epsim::placement {
namespace {

constexpr uint32_t kNone = ~0u;
// Closest first; the last one relates every pair.
const char* const kLevels[] = {"nvlink", "pcie-switch", "root-complex", "socket", "host",
                               "cluster"};
constexpr int kNumLevels = 6;

struct Edge {
  uint32_t to;
  proto::LinkKind kind;
};

class TopologyGraph {
 public:
  explicit TopologyGraph(const proto::Topology& t) : t_(t), adj_(t.nodes_size()) {
    std::map<std::string, uint32_t> index;
    for (int i = 0; i < t.nodes_size(); ++i) index.emplace(t.nodes(i).name(), i);
    for (const proto::Link& l : t.links()) {
      auto a = index.find(l.a()), b = index.find(l.b());
      if (a == index.end() || b == index.end()) continue;  // engine validation reports it
      adj_[a->second].push_back({b->second, l.kind()});
      adj_[b->second].push_back({a->second, l.kind()});
    }
  }

  proto::ComponentKind Kind(uint32_t v) const { return t_.nodes(v).kind(); }
  const std::vector<Edge>& Edges(uint32_t v) const { return adj_[v]; }

  // The nearest node of kind `target` from `start` by hop count, over links
  // of the given kinds, passing only through nodes of the given kinds;
  // kNone if unreachable. Ties go to the node listed first.
  uint32_t Nearest(uint32_t start, proto::ComponentKind target, std::vector<proto::LinkKind> links,
                   std::vector<proto::ComponentKind> through) const {
    std::vector<bool> seen(adj_.size(), false);
    std::deque<uint32_t> queue = {start};
    seen[start] = true;
    auto has = [](const auto& list, auto x) {
      return std::find(list.begin(), list.end(), x) != list.end();
    };
    while (!queue.empty()) {
      const uint32_t v = queue.front();
      queue.pop_front();
      if (v != start && Kind(v) == target) return v;
      if (v != start && !has(through, Kind(v))) continue;
      for (const Edge& e : adj_[v])
        if (!seen[e.to] && has(links, e.kind)) seen[e.to] = true, queue.push_back(e.to);
    }
    return kNone;
  }

 private:
  const proto::Topology& t_;
  std::vector<std::vector<Edge>> adj_;
};

// Union-find over ranks.
struct Components {
  std::vector<uint32_t> parent;
  explicit Components(uint32_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  uint32_t Find(uint32_t x) { return parent[x] == x ? x : parent[x] = Find(parent[x]); }
  void Join(uint32_t a, uint32_t b) { parent[Find(a)] = Find(b); }
};

// For each rank, its attachment key at each level (kNone: not attached).
std::vector<std::vector<uint32_t>> AttachmentKeys(const proto::Topology& t,
                                                  const std::vector<uint32_t>& rank_nodes) {
  const TopologyGraph g(t);
  using proto::CPU, proto::PCIE_SWITCH, proto::ROOT_COMPLEX, proto::PCIE, proto::MEMORY;
  std::vector<std::vector<uint32_t>> keys(kNumLevels,
                                          std::vector<uint32_t>(rank_nodes.size(), kNone));
  for (uint32_t r = 0; r < rank_nodes.size(); ++r) {
    keys[1][r] = g.Nearest(rank_nodes[r], PCIE_SWITCH, {PCIE}, {PCIE_SWITCH});
    keys[2][r] = g.Nearest(rank_nodes[r], ROOT_COMPLEX, {PCIE}, {PCIE_SWITCH});
    keys[3][r] = g.Nearest(rank_nodes[r], CPU, {PCIE, MEMORY}, {PCIE_SWITCH, ROOT_COMPLEX});
    keys[4][r] = t.nodes(rank_nodes[r]).host();
    keys[5][r] = 0;
  }
  return keys;
}

// NVLink domains: GPUs joined directly or through one NVSwitch.
void JoinNvlink(const proto::Topology& t, const std::vector<uint32_t>& rank_nodes,
                Components* c) {
  const TopologyGraph g(t);
  std::map<uint32_t, uint32_t> rank_of_node;
  for (uint32_t r = 0; r < rank_nodes.size(); ++r) rank_of_node[rank_nodes[r]] = r;
  for (uint32_t r = 0; r < rank_nodes.size(); ++r)
    for (const Edge& e : g.Edges(rank_nodes[r])) {
      if (e.kind != proto::NVLINK) continue;
      if (auto it = rank_of_node.find(e.to); it != rank_of_node.end()) c->Join(r, it->second);
      if (g.Kind(e.to) != proto::NVSWITCH) continue;
      for (const Edge& f : g.Edges(e.to))
        if (auto it = rank_of_node.find(f.to); f.kind == proto::NVLINK && it != rank_of_node.end())
          c->Join(r, it->second);
    }
}

// component[level][rank], cumulative over closer levels.
std::vector<std::vector<uint32_t>> LevelComponents(const proto::Topology& t,
                                                   const std::vector<uint32_t>& rank_nodes) {
  const uint32_t n = static_cast<uint32_t>(rank_nodes.size());
  const auto keys = AttachmentKeys(t, rank_nodes);
  Components c(n);
  JoinNvlink(t, rank_nodes, &c);
  std::vector<std::vector<uint32_t>> out(kNumLevels, std::vector<uint32_t>(n));
  for (int level = 0; level < kNumLevels; ++level) {
    for (uint32_t a = 0; a < n && level > 0; ++a)
      for (uint32_t b = a + 1; b < n; ++b)
        if (keys[level][a] != kNone && keys[level][a] == keys[level][b]) c.Join(a, b);
    for (uint32_t r = 0; r < n; ++r) out[level][r] = c.Find(r);
  }
  return out;
}

// The ranks of `ranks` grouped by their component at `level`, groups in
// order of first rank.
std::vector<std::vector<uint32_t>> SplitAt(const std::vector<std::vector<uint32_t>>& comp,
                                           const std::vector<uint32_t>& ranks, int level) {
  std::map<uint32_t, size_t> index;
  std::vector<std::vector<uint32_t>> out;
  for (uint32_t r : ranks) {
    auto [it, fresh] = index.try_emplace(comp[level][r], out.size());
    if (fresh) out.emplace_back();
    out[it->second].push_back(r);
  }
  return out;
}

RankGroup Build(const std::vector<std::vector<uint32_t>>& comp, std::vector<uint32_t> ranks,
                int level) {
  RankGroup g{kLevels[level], std::move(ranks), {}};
  if (g.ranks.size() == 1) {
    g.level = "rank";
    return g;
  }
  for (int l = level - 1; l >= 0; --l) {
    const auto split = SplitAt(comp, g.ranks, l);
    if (split.size() < 2) continue;
    // Name the children after the closest level that still groups them so.
    while (l > 0 && SplitAt(comp, g.ranks, l - 1) == split) --l;
    for (const auto& part : split) g.children.push_back(Build(comp, part, l));
    return g;
  }
  for (uint32_t r : g.ranks) g.children.push_back({"rank", {r}, {}});
  return g;
}

}  // namespace

Result<RankGroup> RankHierarchy(const proto::Topology& topology, uint32_t num_ranks) {
  std::vector<uint32_t> rank_nodes;
  for (int i = 0; i < topology.nodes_size() && rank_nodes.size() < num_ranks; ++i)
    if (topology::IsRankNode(topology.nodes(i))) rank_nodes.push_back(i);
  if (num_ranks == 0 || rank_nodes.size() < num_ranks)
    return Status::BadInput(fmt::format(
        "topology {}: {} {}, placement needs {}", topology.name(), rank_nodes.size(),
        topology::RankNoun(topology::RankKind(topology), true), num_ranks));
  std::vector<uint32_t> all(num_ranks);
  std::iota(all.begin(), all.end(), 0);
  return Build(LevelComponents(topology, rank_nodes), all, kNumLevels - 1);
}

std::vector<uint32_t> HostOfRank(const proto::Topology* topology, uint32_t num_ranks) {
  std::vector<uint32_t> out(num_ranks, 0);
  if (topology == nullptr) return out;
  std::map<uint32_t, uint32_t> dense;
  uint32_t r = 0;
  for (const proto::Component& node : topology->nodes())
    if (topology::IsRankNode(node) && r < num_ranks)
      out[r++] = dense.emplace(node.host(), static_cast<uint32_t>(dense.size())).first->second;
  return out;
}

std::string Describe(const RankGroup& group) {
  if (group.children.empty()) return fmt::format("{}", group.ranks[0]);
  std::string out = group.level + "{";
  for (size_t i = 0; i < group.children.size(); ++i)
    out += (i ? "," : "") + Describe(group.children[i]);
  return out + "}";
}

}  // namespace epsim::placement
