// edgerig-run and the control room as a user runs them from a terminal: Ctrl-C stops at an
// iteration boundary, keeps the run folder (its last event run_stopped) and exits 130; a broken
// experiment file exits 2 naming the field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_process.h"
#include "core/runlog/run_reader.h"

namespace edgerig {
namespace {

using namespace std::chrono_literals;
using testsupport::slurp;
using testsupport::spawn;
using testsupport::waitExit;
using testsupport::waitForTraining;

// An experiment that trains until stopped.
std::string longExperiment(const testsupport::ScratchDir& dir) {
  const std::string path = dir.path("long.json");
  std::ofstream(path) << R"({
    "name": "long", "seed": 2, "devices": {"localCount": 2}, "model": {"name": "mlp"},
    "dataset": {"name": "synthetic", "syntheticSize": 4096},
    "training": {"batchSize": 64, "maxIterations": 1000000, "evalEvery": 0}})";
  return path;
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
