// The bandwidth probe against a real kernel rate limit: three agents, each in its own network
// namespace joined by veth pairs to a bridge, with `tc tbf rate 50mbit` on dev2's interface. The
// probe must measure dev2's links within ±20 % of 50 Mbit/s and the others far above it. Needs
// root and `ip netns` (CI has both); skips with the reason otherwise. The namespaces are
// tests/support/netns_testbed.h's, removed when the test ends, failed or not.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "core/controller/controller.h"
#include "core/controller/local_testbed.h"
#include "core/runlog/run_reader.h"
#include "device_bridge/auth.h"
#include "tests/support/netns_testbed.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

constexpr int kAgents = 3;
constexpr int kCapped = 2;       // dev2's interface has the tbf qdisc
constexpr double kCapMbit = 50;  // tc ... tbf rate 50mbit
constexpr double kMbit = 1e6 / 8;

class NetnsProbe : public testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = testsupport::NetnsTestbed::skip(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    ASSERT_NO_FATAL_FAILURE(bed_.make(std::vector<int>(kAgents, 0)));
    ASSERT_NO_FATAL_FAILURE(bed_.capAgent(kCapped, kCapMbit));
    ASSERT_NO_FATAL_FAILURE(bed_.startAgents());
    remote_ = bed_.remote();
    token_file_ = bed_.tokenFile();
  }

  testsupport::NetnsTestbed bed_;
  std::vector<std::string> remote_;
  std::string token_file_;
};

TEST_F(NetnsProbe, MeasuresAKernelTbfLimitWithinTwentyPercentAndTheOtherLinksFarAbove) {
  ExperimentConfig c;
  c.name = "netns-probe";
  c.seed = 5;
  c.local_count = 0;
  c.remote = remote_;
  c.token_file = token_file_;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 512;
  c.batch_size = 32;
  c.max_iterations = 1;
  c.eval_every = 0;
  c.eval_samples = 64;
  c.test_limit = 64;
  const auto dir = testsupport::runDir("netns");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  const auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  for (const auto& e : run->events) {
    if (e.kind == "link_probe") std::printf("%s\n", e.detail.c_str());
  }
  std::map<std::pair<std::string, std::string>, double> m;
  for (const auto& l : run->links) m[{l.from, l.to}] = l.bytes_per_s;
  ASSERT_EQ(m.size(), static_cast<size_t>(kAgents * (kAgents - 1)));
  const std::string capped = "dev" + std::to_string(kCapped);
  for (const auto& [link, v] : m) {
    if (link.first == capped) {
      EXPECT_NEAR(v, kCapMbit * kMbit, 0.2 * kCapMbit * kMbit) << link.first << "->" << link.second;
    } else {
      EXPECT_GT(v, 4 * kCapMbit * kMbit) << link.first << "->" << link.second << " has no qdisc";
    }
  }
}

}  // namespace
}  // namespace edgerig
