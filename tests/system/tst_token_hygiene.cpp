// Where the token must never be: in an agent's argv or environment, on disk after the
// controller is gone (even after a SIGKILL), or in any log. Real edgerig-agent processes and a
// real edgerig-run, all on loopback.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/controller/local_testbed.h"
#include "device_bridge/address.h"
#include "device_bridge/auth.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Files named as a token file that appeared since `before` (others' may come and go).
std::set<std::string> newTokenFiles(const std::set<std::string>& before);

std::set<std::string> tokenFilesInTmp() {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/tmp", ec)) {
    if (e.path().filename().string().rfind("edgerig-token-", 0) == 0) out.insert(e.path());
  }
  return out;
}

std::set<std::string> newTokenFiles(const std::set<std::string>& before) {
  std::set<std::string> out;
  for (const auto& f : tokenFilesInTmp()) {
    if (!before.count(f)) out.insert(f);
  }
  return out;
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

TEST(TokenHygiene, NeverInArgvEnvironmentDiskOrAnAgentLog) {
  testsupport::ScratchDir logs("hygiene-logs");
  // Agents inherit our environment: the most verbose logging they have.
  setenv("EDGERIG_LOG", "trace", 1);
  const std::string token = bridge::randomToken();
  const std::set<std::string> before = tokenFilesInTmp();
  auto tb = LocalTestbed::spawn(findAgentBinary(), {{"hyg0", 1, ""}, {"hyg1", 1, ""}}, token,
                                logs.path().string());
  unsetenv("EDGERIG_LOG");
  ASSERT_TRUE(tb) << tb.status().message();
  EXPECT_TRUE(newTokenFiles(before).empty()) << "the token went to a file";
  for (size_t i = 0; i < (*tb)->size(); ++i) {
    const std::string proc = "/proc/" + std::to_string((*tb)->pid(i));
    const std::string argv = slurp(proc + "/cmdline"), env = slurp(proc + "/environ");
    EXPECT_FALSE(argv.empty());
    EXPECT_EQ(argv.find(token), std::string::npos) << "token in argv of agent " << i;
    EXPECT_EQ(env.find(token), std::string::npos) << "token in the environment of agent " << i;
  }
  // Traffic of every kind the logs see: a good session, a wrong token, a TLS session.
  bridge::IoThread io;
  for (const auto protection : {wire::PROTECTION_MAC, wire::PROTECTION_TLS}) {
    bridge::SessionOptions so;
    so.local_name = "hygiene-test";
    so.protection = protection;
    auto at = bridge::parseHostPort((*tb)->address(0));
    ASSERT_TRUE(at);
    auto s = bridge::connect(io.context(), *at, token, so);
    ASSERT_TRUE(s) << s.status().message();
    (*s)->start([](wire::Envelope&&) {}, [](const Status&) {});
    wire::Envelope clear;
    clear.mutable_fault()->set_kind(wire::FaultCommand::KIND_CLEAR);
    (*s)->send(clear);
    std::this_thread::sleep_for(300ms);
    (*s)->close();
    auto wrong = bridge::connect(io.context(), *at, token.substr(1) + "0", so);
    EXPECT_FALSE(wrong);
  }
  tb.value().reset();  // agents end; their logs are complete
  size_t logged = 0;
  for (const auto& e : fs::directory_iterator(logs.path())) {
    const std::string text = slurp(e.path());
    logged += text.size();
    EXPECT_EQ(text.find(token), std::string::npos) << "token in " << e.path();
    EXPECT_EQ(text.find(token.substr(0, 16)), std::string::npos) << "token part in " << e.path();
  }
  EXPECT_GT(logged, 1000u) << "the agents logged too little for this test to mean anything";
  EXPECT_TRUE(newTokenFiles(before).empty());
}

TEST(TokenHygiene, StaleTokenFilesOfAKilledControllerAreRemovedAtTheNextStart) {
  // As an older release's controller left them: one SIGKILLed two days ago, one of a
  // controller that may still be running (an hour old).
  const auto make = [](std::chrono::hours age) {
    char path[] = "/tmp/edgerig-token-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, "leftover\n", 9), 9);
    close(fd);
    const auto when = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() - age);
    const struct timeval times[2] = {{when, 0}, {when, 0}};
    EXPECT_EQ(utimes(path, times), 0);
    return std::string(path);
  };
  const std::string stale = make(std::chrono::hours(48));
  const std::string recent = make(std::chrono::hours(1));
  auto tb = LocalTestbed::spawn(findAgentBinary(), {{"solo", 1, ""}}, bridge::randomToken(), "");
  ASSERT_TRUE(tb) << tb.status().message();
  EXPECT_FALSE(fs::exists(stale)) << stale << " is still there";
  EXPECT_TRUE(fs::exists(recent)) << recent << " may be a running controller's; it was removed";
  fs::remove(recent);
}

TEST(TokenHygiene, SigkilledControllerLeavesNoTokenBehind) {
  const char* run = std::getenv("EDGERIG_RUN");
  const char* src = std::getenv("EDGERIG_SOURCE_DIR");
  if (run == nullptr || src == nullptr) GTEST_SKIP() << "EDGERIG_RUN or EDGERIG_SOURCE_DIR unset";
  testsupport::ScratchDir out("hygiene-kill");
  const std::set<std::string> before = tokenFilesInTmp();
  const std::string experiment = std::string(src) + "/resources/experiments/quickstart.json";
  const std::string folder = out.path().string() + "/run";
  const pid_t controller = fork();
  ASSERT_GE(controller, 0);
  if (controller == 0) {
    execl(run, run, experiment.c_str(), "--out", folder.c_str(), "--quiet", "--set",
          "dataset.name=synthetic", "--set", "devices.localCount=2", "--set",
          "training.epochs=1000", "--set", "training.maxSeconds=60", nullptr);
    _exit(127);
  }
  // Its agents are up once they have written to their logs in the run folder.
  const auto agents = [&] {
    std::vector<pid_t> pids;
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(e.path() / "stat");
      std::string line;
      std::getline(stat, line);
      const size_t close_paren = line.rfind(')');
      if (close_paren == std::string::npos) continue;
      std::istringstream rest(line.substr(close_paren + 2));
      char state;
      pid_t ppid;
      rest >> state >> ppid;
      if (ppid == controller) pids.push_back(std::stoi(name));
    }
    return pids;
  };
  ASSERT_TRUE(waitFor([&] { return agents().size() == 2; }, 30s));
  ASSERT_TRUE(waitFor([&] { return fs::exists(folder + "/metrics.csv"); }, 30s));
  const std::vector<pid_t> children = agents();
  kill(controller, SIGKILL);
  waitpid(controller, nullptr, 0);
  // The agents die with it (PR_SET_PDEATHSIG), and nothing with the token stays on disk.
  EXPECT_TRUE(waitFor(
      [&] {
        for (pid_t p : children) {
          if (kill(p, 0) == 0 &&
              slurp("/proc/" + std::to_string(p) + "/stat").find(" Z ") == std::string::npos) {
            return false;
          }
        }
        return true;
      },
      10s));
  EXPECT_TRUE(newTokenFiles(before).empty());
}

}  // namespace
}  // namespace edgerig
