// dssync against a real kernel rate limit: four agents in network namespaces, two halves on two
// bridges whose only path is a veth pair with `tc tbf rate 20mbit` on both ends. The probe
// measures the crossing links slow, dssync finds the two halves as its sites, no ordinary
// round's group crosses, and the bridge rounds do. Needs root and `ip netns` (CI has both);
// skips with the reason otherwise (tests/support/netns_testbed.h).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/algorithms/decentralized/dssync/dssync_coordinator.h"
#include "core/controller/controller.h"
#include "core/runlog/run_reader.h"
#include "tests/support/netns_testbed.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

TEST(DssyncNetns, GroupsFollowAKernelTbfLimitOnTheCrossingLink) {
  if (const std::string why = testsupport::NetnsTestbed::skip(); !why.empty()) GTEST_SKIP() << why;
  testsupport::NetnsTestbed bed;
  ASSERT_NO_FATAL_FAILURE(bed.make({0, 0, 1, 1}));
  ASSERT_NO_FATAL_FAILURE(bed.capCrossing(20));
  ASSERT_NO_FATAL_FAILURE(bed.startAgents());
  ExperimentConfig c;
  c.name = "dssync-netns";
  c.seed = 5;
  c.local_count = 0;
  c.remote = bed.remote();
  c.token_file = bed.tokenFile();
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 2048;
  c.batch_size = 32;
  c.max_iterations = 12;
  c.epochs = 0;
  c.eval_every = 0;
  c.eval_samples = 64;
  c.test_limit = 64;
  c.algorithm.name = "dssync";
  c.algorithm.params.set("groupSize", int64_t{2});
  c.algorithm.params.set("bridgeEvery", int64_t{3});
  const auto dir = testsupport::runDir("dssync-netns");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  const auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  std::vector<std::string> sites;
  for (const auto& e : run->events) {
    if (e.kind == "link_probe" || e.kind == kGroupsChanged) std::printf("%s\n", e.detail.c_str());
    if (e.kind == kGroupsChanged) sites.push_back(e.field("sites"));
  }
  ASSERT_EQ(sites.size(), 1u);
  EXPECT_EQ(sites[0], "{0 1} {2 3}");
  const auto half = [](const std::string& d) { return d == "dev0" || d == "dev1"; };
  std::map<int64_t, std::pair<std::string, bool>> rounds;  // round → kind, crosses
  for (const auto& e : run->graph) {
    auto& r = rounds[e.round];
    r.first = e.graph;
    r.second = r.second || half(e.from) != half(e.to);
  }
  int ordinary = 0, bridges = 0;
  for (const auto& [round, r] : rounds) {
    if (r.first == "groups-bridge") {
      ++bridges;
      EXPECT_EQ((round + 1) % 3, 0) << "round " << round;
      EXPECT_TRUE(r.second) << "bridge round " << round;
    } else {
      ++ordinary;
      EXPECT_FALSE(r.second) << "round " << round << " crosses the tbf limit";
    }
  }
  EXPECT_GE(ordinary, 3);
  EXPECT_GE(bridges, 3);
}

}  // namespace
}  // namespace edgerig
