// Crash safety, from outside: edgerig-run killed with SIGKILL mid-run leaves a run folder that
// reads back with at most its last second missing; a local testbed's agents die with it; remote
// agents accept the next controller at once and train from a clean slate; an agent killed with
// SIGKILL mid-run (its peers in the middle of large frames) is a clean loss for allreduce, not
// a hang.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli_process.h"
#include "core/controller/local_testbed.h"
#include "core/runlog/run_reader.h"
#include "device_bridge/auth.h"

namespace edgerig {
namespace {

using namespace std::chrono_literals;
using testsupport::slurp;
using testsupport::spawn;
using testsupport::waitExit;
using testsupport::waitForTraining;

// Children of `parent` (from /proc/*/stat's fourth field).
std::set<pid_t> childrenOf(pid_t parent) {
  std::set<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent) {
      out.insert(std::stoi(name));
    }
  }
  return out;
}

bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] != 'Z';
}

double mtimeAgeSeconds(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 1e9;
  const auto mtime = std::chrono::system_clock::time_point(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
  return std::chrono::duration<double>(std::chrono::system_clock::now() - mtime).count();
}

std::string experiment(const testsupport::ScratchDir& dir, const std::string& devices,
                       int64_t iterations, const std::string& extra = "") {
  const std::string path = dir.path("exp-" + std::to_string(iterations) + ".json");
  std::ofstream(path) << R"({"name": "crash", "seed": 4, "devices": )" << devices
                      << R"(, "model": {"name": "mlp"},
    "dataset": {"name": "synthetic", "syntheticSize": 4096},
    "training": {"batchSize": 64, "maxIterations": )"
                      << iterations << R"(, "epochs": 100000, "evalEvery": 0})" << extra << "}";
  return path;
}

TEST(CrashSafety, AControllerKilledMidRunLeavesAReadableFolderAndTakesItsLocalAgents) {
  testsupport::ScratchDir dir("crash-controller");
  const std::string run_dir = dir.path("run");
  const pid_t pid =
      spawn("EDGERIG_RUN",
            {experiment(dir, R"({"localCount": 2})", 1000000), "--out", run_dir, "--quiet"}, dir);
  ASSERT_GT(pid, 0);
  if (!waitForTraining(run_dir)) {
    kill(-pid, SIGKILL);
    waitExit(pid, 5s);
    FAIL() << "no iteration within 60 s; stderr: " << slurp(dir.path("stderr"));
  }
  std::this_thread::sleep_for(1500ms);
  const std::set<pid_t> agents = childrenOf(pid);
  ASSERT_EQ(agents.size(), 2u) << "the local testbed's two agents are edgerig-run's children";
  kill(pid, SIGKILL);  // the controller alone, as a crash: no handler runs
  EXPECT_EQ(waitExit(pid, 10s), -1);
  const auto killed = std::chrono::steady_clock::now();

  // What was written up to the kill is on disk: the last metric row is less than a second old.
  const double age = mtimeAgeSeconds(run_dir + "/metrics.csv");
  EXPECT_LT(age,
            1.0 + std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count())
      << "metrics.csv was last written " << age << " s ago";
  auto run = readRun(run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  EXPECT_FALSE(run->metrics.empty());
  EXPECT_FALSE(run->events.empty());

  // The agents die with it (the parent-death signal), within a couple of seconds.
  const auto until = std::chrono::steady_clock::now() + 5s;
  std::set<pid_t> left = agents;
  while (!left.empty() && std::chrono::steady_clock::now() < until) {
    std::erase_if(left, [](pid_t p) { return !running(p); });
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(left.empty()) << left.size() << " local agents outlived their controller";
  for (pid_t p : left) kill(p, SIGKILL);
}

TEST(CrashSafety, RemoteAgentsAcceptTheNextControllerAndStartClean) {
  testsupport::ScratchDir dir("crash-remote");
  const std::string token = bridge::randomToken();
  const std::string token_file = dir.path("token");
  std::ofstream(token_file) << token;
  ::chmod(token_file.c_str(), 0600);
  auto tb = LocalTestbed::spawn(findAgentBinary(), {{"a", 1, ""}, {"b", 1, ""}}, token, "");
  ASSERT_TRUE(tb.isOk()) << tb.status().message();
  const std::string devices = R"({"localCount": 0, "remote": [")" + (*tb)->address(0) + R"(", ")" +
                              (*tb)->address(1) + R"("], "tokenFile": ")" + token_file + R"("})";

  const std::string first_dir = dir.path("first");
  const pid_t first =
      spawn("EDGERIG_RUN", {experiment(dir, devices, 1000000), "--out", first_dir, "--quiet"}, dir);
  ASSERT_GT(first, 0);
  ASSERT_TRUE(waitForTraining(first_dir)) << slurp(dir.path("stderr"));
  kill(-first, SIGKILL);
  waitExit(first, 10s);

  // At once, a new controller: the agents drop the dead one's run and train for this one.
  const std::string second_dir = dir.path("second");
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t second =
      spawn("EDGERIG_RUN", {experiment(dir, devices, 20), "--out", second_dir, "--quiet"}, dir);
  ASSERT_EQ(waitExit(second, 60s), 0) << slurp(dir.path("stderr"));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE((*tb)->alive(0) && (*tb)->alive(1));

  // From a clean slate: the second run's first loss is the killed run's first loss (same seed,
  // same model), so nothing of the first run's state was left in the agents.
  auto a = readRun(first_dir);
  auto b = readRun(second_dir);
  ASSERT_TRUE(a.isOk() && b.isOk());
  auto firstLoss = [](const RunData& r) {  // the first train_loss row of the first iteration
    const MetricSample* first = nullptr;
    for (const auto& m : r.metrics) {
      if (m.metric == "train_loss" && (!first || m.iteration < first->iteration)) first = &m;
    }
    return first ? first->value : -1.0;
  };
  ASSERT_GT(firstLoss(*a), 0);
  EXPECT_DOUBLE_EQ(firstLoss(*b), firstLoss(*a));
  std::printf("[ measured ] a second controller's 20-iteration run took %.2f s after the kill\n",
              took);
}

TEST(CrashSafety, AnAgentKilledMidFrameIsACleanLossNotAHang) {
  // allreduce of a large model (vgg: megabytes a ring step), one agent SIGKILLed mid-run, many
  // times a second in the middle of a frame: the survivors see the loss and finish the run.
  testsupport::ScratchDir dir("crash-agent");
  const std::string run_dir = dir.path("run");
  const std::string path = dir.path("exp.json");
  std::ofstream(path) << R"({"name": "crash-agent", "seed": 4, "devices": {"localCount": 3},
    "model": {"name": "vgg"}, "dataset": {"name": "synthetic", "syntheticSize": 512},
    "algorithm": {"name": "allreduce"},
    "training": {"batchSize": 8, "maxIterations": 12, "evalEvery": 0}})";
  const pid_t pid = spawn("EDGERIG_RUN", {path, "--out", run_dir, "--quiet"}, dir);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(waitForTraining(run_dir)) << slurp(dir.path("stderr"));
  std::set<pid_t> agents = childrenOf(pid);
  ASSERT_EQ(agents.size(), 3u);
  kill(*agents.rbegin(), SIGKILL);
  ASSERT_EQ(waitExit(pid, 120s), 0)
      << "the run hung or failed after a device was killed: " << slurp(dir.path("stderr"));
  auto run = readRun(run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  int lost = 0;
  for (const auto& e : run->events) lost += e.kind == "device_lost";
  EXPECT_EQ(lost, 1);
  bool finished = false;
  for (const auto& e : run->events) {
    finished = finished || e.kind == "run_finished";
    EXPECT_NE(e.kind, "run_failed") << e.detail;
  }
  EXPECT_TRUE(finished);
}

}  // namespace
}  // namespace edgerig
