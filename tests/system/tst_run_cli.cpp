// edgerig-run and the control room as a user runs them from a terminal: Ctrl-C stops at an
// iteration boundary, keeps the run folder (its last event run_stopped) and exits 130; a broken
// experiment file exits 2 naming the field.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

extern char** environ;

namespace edgerig {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The executable named by `env_var` (EDGERIG_RUN, EDGERIG_GUI: ctest sets them) with `args`,
// stdout and stderr to files in `dir`, in a process group of its own as a shell runs a
// foreground job (the group's id is the pid).
pid_t spawn(const char* env_var, const std::vector<std::string>& args,
            const testsupport::ScratchDir& dir) {
  const char* exe = std::getenv(env_var);
  EXPECT_NE(exe, nullptr) << env_var << " is not set (ctest sets it)";
  if (!exe) return -1;
  std::vector<std::string> argv_s{exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  const std::string out = dir.path("stdout"), err = dir.path("stderr");
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe, &files, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  EXPECT_EQ(rc, 0) << "posix_spawn " << exe;
  return rc == 0 ? pid : -1;
}

// The exit status, or -1 if it did not exit within `limit` (then it is killed).
int waitExit(pid_t pid, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(50ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

// An experiment that trains until stopped.
std::string longExperiment(const testsupport::ScratchDir& dir) {
  const std::string path = dir.path("long.json");
  std::ofstream(path) << R"({
    "name": "long", "seed": 2, "devices": {"localCount": 2}, "model": {"name": "mlp"},
    "dataset": {"name": "synthetic", "syntheticSize": 4096},
    "training": {"batchSize": 64, "maxIterations": 1000000, "evalEvery": 0}})";
  return path;
}

// Waits (up to 60 s) until a loss is in <run_dir>/metrics.csv: the run is training.
bool waitForTraining(const std::string& run_dir) {
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    if (slurp(run_dir + "/metrics.csv").find("train_loss") != std::string::npos) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

void expectStoppedCleanly(const std::string& run_dir) {
  auto run = readRun(run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  ASSERT_FALSE(run->events.empty());
  EXPECT_EQ(run->events.back().kind, "run_stopped");
  for (const auto& e : run->events) {
    EXPECT_NE(e.kind, "run_failed") << e.detail;
    EXPECT_NE(e.kind, "device_lost") << e.detail;
  }
}

TEST(RunCli, CtrlCStopsKeepsTheRunFolderAndExits130) {
  testsupport::ScratchDir dir("run-cli");
  const std::string run_dir = dir.path("run");
  const pid_t pid = spawn("EDGERIG_RUN", {longExperiment(dir), "--out", run_dir, "--quiet"}, dir);
  ASSERT_GT(pid, 0);
  if (!waitForTraining(run_dir)) {
    kill(-pid, SIGKILL);
    waitExit(pid, 5s);
    FAIL() << "no iteration within 60 s; stderr: " << slurp(dir.path("stderr"));
  }
  // What a terminal does on Ctrl-C: SIGINT to the whole foreground process group. The local
  // agents must not be in it, or they die mid-step and the stop becomes a lost device.
  kill(-pid, SIGINT);
  EXPECT_EQ(waitExit(pid, 30s), 130) << slurp(dir.path("stderr"));
  EXPECT_NE(slurp(dir.path("stdout")).find("stopped on request"), std::string::npos)
      << slurp(dir.path("stdout"));
  expectStoppedCleanly(run_dir);
}

TEST(RunCli, CtrlCClosesTheControlRoomCleanly) {
  // The GUI started from a terminal with --demo: Ctrl-C there stops the run at a boundary, as
  // its Stop button does, and the window closes once the run has wound down.
  testsupport::ScratchDir dir("run-cli-gui");
  setenv("XDG_CONFIG_HOME", dir.path("config").c_str(), 1);  // keep user settings out
  const std::string runs = dir.path("runs");
  const pid_t pid = spawn("EDGERIG_GUI", {longExperiment(dir), "--demo", "--runs", runs}, dir);
  ASSERT_GT(pid, 0);
  std::string run_dir;
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (run_dir.empty() && std::chrono::steady_clock::now() < until) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(runs, ec)) run_dir = e.path();
    if (run_dir.empty()) std::this_thread::sleep_for(100ms);
  }
  if (run_dir.empty() || !waitForTraining(run_dir)) {
    kill(-pid, SIGKILL);
    waitExit(pid, 5s);
    FAIL() << "the GUI's run did not train within 60 s; stderr: " << slurp(dir.path("stderr"));
  }
  kill(-pid, SIGINT);
  EXPECT_EQ(waitExit(pid, 30s), 130) << slurp(dir.path("stderr"));
  expectStoppedCleanly(run_dir);
}

TEST(RunCli, BrokenExperimentExits2NamingTheField) {
  testsupport::ScratchDir dir("run-cli-bad");
  const std::string experiment = dir.path("bad.json");
  std::ofstream(experiment) << R"({"name": "bad", "training": {"batchSize": "many"}})";
  const pid_t pid = spawn("EDGERIG_RUN", {experiment, "--out", dir.path("run")}, dir);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid, 30s), 2);
  const std::string err = slurp(dir.path("stderr"));
  EXPECT_NE(err.find("training.batchSize"), std::string::npos) << err;
  EXPECT_NE(err.find(experiment), std::string::npos) << err;
}

}  // namespace
}  // namespace edgerig
