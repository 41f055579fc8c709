// Strategy specs (sim/dispatch/strategy.cc): every form parses to its
// canonical name and flags; anything else is a usage error listing them.
#include <gtest/gtest.h>

#include "sim/dispatch/strategy.h"

namespace epsim::dispatch {
namespace {

struct Expected {
  std::string spec, name;
  bool changes_routing, hierarchical, needs_profile;
};

TEST(StrategySpecTest, ParsesEveryFormToItsCanonicalName) {
  const std::vector<Expected> cases = {
      {"classical", "classical", false, false, false},
      {"dedup", "dedup", false, false, false},
      {"pruned:2:score", "pruned:2:score", true, false, false},
      {"pruned:02:score", "pruned:2:score", true, false, false},
      {"pruned:1:similarity", "pruned:1:similarity", true, false, true},
      {"c2r:5", "c2r:5", true, false, true},
      {"node-limited:4", "node-limited:4", true, false, false},
      {"hierarchical", "hierarchical", false, true, false},
      {"luffy:2:4", "luffy:2:4", false, false, false},
      {"luffy:2:4:10", "luffy:2:4", false, false, false},  // 10 is the default slack
      {"luffy:3:1:0", "luffy:3:1:0", false, false, false},
  };
  for (const Expected& e : cases) {
    auto s = MakeStrategy(e.spec);
    ASSERT_TRUE(s.ok()) << e.spec << ": " << s.status().ToString();
    EXPECT_EQ((*s)->name(), e.name);
    EXPECT_EQ((*s)->changes_routing(), e.changes_routing) << e.spec;
    EXPECT_EQ((*s)->hierarchical(), e.hierarchical) << e.spec;
    EXPECT_EQ((*s)->needs_profile(), e.needs_profile) << e.spec;
  }
  auto list = MakeStrategies("dedup,pruned:2:score,hierarchical");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[1]->name(), "pruned:2:score");
}

TEST(StrategySpecTest, RejectsBadSpecsWithTheKnownForms) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"pruned", "pruned:N_d:SCHEME"},
      {"pruned:2", "pruned:N_d:SCHEME"},
      {"pruned:2:score:3", "pruned:N_d:SCHEME"},
      {"pruned:0:score", "N_d must be a positive integer, got '0'"},
      {"pruned:x:score", "got 'x'"},
      {"pruned::score", "got ''"},
      {"pruned:2:random", "'score' or 'similarity'"},
      {"c2r", "expected c2r:T"},
      {"luffy", "luffy:Q:C or luffy:Q:C:S"},
      {"luffy:2", "luffy:Q:C or luffy:Q:C:S"},
      {"luffy:0:4", "Q must be a positive integer, got '0'"},
      {"luffy:2:0", "C must be a positive integer, got '0'"},
      {"luffy:2:4:-5", "S must be a positive integer, got '-5'"},
      {"luffy:2:4:10:1", "luffy:Q:C or luffy:Q:C:S"},
      {"c2r:", "T must be a positive integer"},
      {"c2r:-1", "got '-1'"},
      {"c2r:+3", "got '+3'"},
      {"c2r: 3", "got ' 3'"},
      {"c2r:3x", "got '3x'"},
      {"c2r:0", "got '0'"},
      {"c2r:99999999999", "got '99999999999'"},
      {"node-limited:0", "M must be a positive integer"},
      {"node-limited", "expected node-limited:M"},
      {"node-limited:2:1", "expected node-limited:M"},
      {"hierarchical:2", "unknown dispatch strategy 'hierarchical:2'"},
      {"Dedup", "unknown dispatch strategy 'Dedup'"},
      {"", "unknown dispatch strategy ''"},
  };
  for (const auto& [spec, message] : cases) {
    auto s = MakeStrategy(spec);
    ASSERT_FALSE(s.ok()) << spec;
    EXPECT_EQ(s.status().code(), Status::Code::kUsage) << spec;
    EXPECT_NE(s.status().message().find(message), std::string::npos)
        << spec << " -> " << s.status().message();
    EXPECT_NE(s.status().message().find("pruned:N_d:similarity, c2r:T, node-limited:M"),
              std::string::npos)
        << spec;
  }
}

}  // namespace
}  // namespace epsim::dispatch
