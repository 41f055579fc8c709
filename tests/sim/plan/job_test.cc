// A job's flags written into plans and reports (JobArgs) read back to the
// same job, and what ParseJobArgs refuses.
#include "sim/plan/job.h"

#include <gtest/gtest.h>

namespace epsim::plan {
namespace {

TEST(JobArgsTest, RoundTripsEveryField) {
  JobSpec job;
  job.flags.trace = "traces/my trace \"v2\".pb";  // spaces and quotes survive
  job.flags.model = "olmoe-1b-7b";
  job.flags.tokens = 4096;
  job.flags.seed = 7;
  job.flags.ep = 8;
  job.flags.profile = "p.pb";
  job.flags.similarity = "s.txt";
  job.flags.ranks_per_host = 4;
  job.flags.overlap = "shared-expert";
  job.flags.pass = "decode";
  job.flags.context = 12800;
  job.dispatch = "pruned:2:score";
  job.placement = "contiguous";
  const std::string text = JobArgs(job);
  EXPECT_EQ(text.rfind("--trace \"traces/my trace \\\"v2\\\".pb\" --model olmoe-1b-7b --tokens 4096", 0), 0u)
      << text;
  Result<JobSpec> back = ParseJobArgs(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->flags.trace, job.flags.trace);
  EXPECT_EQ(back->flags.model, job.flags.model);
  EXPECT_EQ(back->flags.tokens, 4096u);
  EXPECT_EQ(back->flags.seed, 7u);
  EXPECT_EQ(back->flags.ep, 8u);
  EXPECT_EQ(back->flags.profile, "p.pb");
  EXPECT_EQ(back->flags.similarity, "s.txt");
  EXPECT_EQ(back->flags.ranks_per_host, 4u);
  EXPECT_EQ(back->flags.overlap, "shared-expert");
  EXPECT_EQ(back->flags.pass, "decode");
  EXPECT_EQ(back->flags.context, 12800u);
  EXPECT_EQ(back->dispatch, "pruned:2:score");
  EXPECT_EQ(back->placement, "contiguous");
  EXPECT_EQ(JobArgs(*back), text);
}

TEST(JobArgsTest, ASyntheticJobLeavesOutWhatIsUnset) {
  JobSpec job;
  job.flags.model = "tiny-moe";
  job.flags.tokens = 2048;
  job.flags.ep = 2;
  job.dispatch = "dedup";
  job.placement = "contiguous";
  EXPECT_EQ(JobArgs(job),
            "--model tiny-moe --tokens 2048 --seed 1 --ep 2 --dispatch dedup --placement contiguous");
}

TEST(JobArgsTest, RefusesWhatItDidNotWrite) {
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"--tokens 12x --dispatch d --placement p", "--tokens '12x' is not a whole number"},
           {"--tokens -3 --dispatch d --placement p", "--tokens '-3' is not a whole number"},
           {"--ep 99999999999 --dispatch d --placement p", "--ep 99999999999 is out of range"},
           {"--colour red --dispatch d --placement p", "unknown flag '--colour'"},
           {"--pass training --dispatch d --placement p", "--pass 'training' is not one of"},
           {"--overlap all --dispatch d --placement p", "--overlap 'all' is not one of"},
           {"--dispatch d --placement", "--placement has no value"},
           {"--model m", "--dispatch and --placement are required"}}) {
    Result<JobSpec> job = ParseJobArgs(text);
    ASSERT_FALSE(job.ok()) << text;
    EXPECT_EQ(job.status().code(), Status::Code::kBadInput);
    EXPECT_NE(job.status().message().find(message), std::string::npos)
        << text << ": " << job.status().message();
  }
}

}  // namespace
}  // namespace epsim::plan
