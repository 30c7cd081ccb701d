// The bandwidth probe against a real kernel rate limit: three agents, each in its own network
// namespace joined by veth pairs to a bridge, with `tc tbf rate 50mbit` on dev2's interface. The
// probe must measure dev2's links within ±20 % of 50 Mbit/s and the others far above it. Needs
// root and `ip netns` (CI has both); skips with the reason otherwise. Namespaces, links and agent
// processes are named after this process and removed in TearDown, failed or not.
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
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

constexpr int kAgents = 3;
constexpr int kCapped = 2;       // dev2's interface has the tbf qdisc
constexpr double kCapMbit = 50;  // tc ... tbf rate 50mbit
constexpr double kMbit = 1e6 / 8;

int sh(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class NetnsProbe : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make network namespaces (CI runs as root)";
    if (sh("ip netns list") != 0) GTEST_SKIP() << "`ip netns` is not available on this host";
    if (sh("tc qdisc help") > 1) GTEST_SKIP() << "`tc` is not available on this host";
    const int id = static_cast<int>(::getpid()) % 100000;
    tag_ = "ep" + std::to_string(id);
    // A /24 of 10.0.0.0/8 of our own, from the pid, apart from other tests' namespaces.
    subnet_ = "10." + std::to_string(200 + id % 50) + "." + std::to_string(id / 50 % 250) + ".";
    made_ = true;
    ASSERT_EQ(sh("ip link add br" + tag_ + " type bridge"), 0) << "cannot make a bridge";
    ASSERT_EQ(sh("ip addr add " + subnet_ + "1/24 dev br" + tag_), 0);
    ASSERT_EQ(sh("ip link set br" + tag_ + " up"), 0);
    for (int i = 0; i < kAgents; ++i) {
      const std::string ns = this->ns(i), in = "p" + tag_ + std::to_string(i),
                        out = "v" + tag_ + std::to_string(i);
      ASSERT_EQ(sh("ip netns add " + ns), 0) << ns;
      ASSERT_EQ(sh("ip link add " + out + " type veth peer name " + in), 0);
      ASSERT_EQ(sh("ip link set " + in + " netns " + ns), 0);
      ASSERT_EQ(sh("ip link set " + out + " master br" + tag_), 0);
      ASSERT_EQ(sh("ip link set " + out + " up"), 0);
      ASSERT_EQ(sh("ip netns exec " + ns + " ip addr add " + address(i) + "/24 dev " + in), 0);
      ASSERT_EQ(sh("ip netns exec " + ns + " ip link set " + in + " up"), 0);
      ASSERT_EQ(sh("ip netns exec " + ns + " ip link set lo up"), 0);
    }
    ASSERT_EQ(sh("ip netns exec " + ns(kCapped) + " tc qdisc add dev p" + tag_ +
                 std::to_string(kCapped) + " root tbf rate 50mbit burst 32kbit latency 400ms"),
              0)
        << "the kernel has no tbf qdisc";
    token_file_ = scratch_.path("token");
    std::ofstream(token_file_) << bridge::randomToken() << "\n";
    ::chmod(token_file_.c_str(), 0600);
    for (int i = 0; i < kAgents; ++i) ASSERT_NO_FATAL_FAILURE(startAgent(i));
  }

  void TearDown() override {
    for (pid_t pid : agents_) ::kill(pid, SIGTERM);
    for (pid_t pid : agents_) {
      int status = 0;
      for (int t = 0; t < 50 && ::waitpid(pid, &status, WNOHANG) == 0; ++t) ::usleep(100000);
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
    if (!made_) return;
    for (int i = 0; i < kAgents; ++i) sh("ip netns del " + ns(i));  // takes its veth end along
    sh("ip link del br" + tag_);
  }

  std::string ns(int i) const { return "ns" + tag_ + "-" + std::to_string(i); }
  std::string address(int i) const { return subnet_ + std::to_string(11 + i); }

  // The agent binary inside namespace i (ip netns exec execs it in place: its pid is the
  // agent's), started once it prints its listening line.
  void startAgent(int i) {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const std::string binary = findAgentBinary();
    const std::string listen = address(i) + ":7411", name = "dev" + std::to_string(i);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execlp("ip", "ip", "netns", "exec", ns(i).c_str(), binary.c_str(), "--listen",
               listen.c_str(), "--name", name.c_str(), "--token-file", token_file_.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    agents_.push_back(pid);
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    ASSERT_NE(line.find("listening on"), std::string::npos)
        << "agent " << name << " in " << ns(i) << " did not start: '" << line << "'";
    remote_.push_back(listen);
  }

  testsupport::ScratchDir scratch_{"netns-probe"};
  std::string tag_, subnet_, token_file_;
  bool made_ = false;
  std::vector<pid_t> agents_;
  std::vector<std::string> remote_;
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
