// edgerig-run and the control room as a user runs them from a terminal: Ctrl-C stops at an
// iteration boundary, keeps the run folder (its last event run_stopped) and exits 130; a broken
// experiment file exits 2 naming the field; --set changes the run, progress goes out as lines
// when stdout is no terminal, the summary table ends it, and `export` writes the wide CSV; a run
// that fails (a dataset folder that is not there) exits 1 naming the path and the package; the
// control room given a run folder replays it.
#include <gtest/gtest.h>

#include <algorithm>
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

TEST(RunCli, SetOverridesTheFileAndTheRunReportsInLinesAndExports) {
  testsupport::ScratchDir dir("run-cli-set");
  // The file asks for a million iterations: only --set makes this run end.
  const std::string run_dir = dir.path("run");
  const pid_t pid = spawn("EDGERIG_RUN",
                          {longExperiment(dir), "--set", "training.maxIterations=12", "--set",
                           "training.evalEvery=6", "--out", run_dir},
                          dir);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitExit(pid, 120s), 0) << slurp(dir.path("stderr"));
  auto run = readRun(run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  int64_t last = 0, evaluations = 0;
  for (const auto& m : run->metrics) {
    if (m.metric == "train_loss" && m.device.empty()) last = std::max(last, m.iteration);
    if (m.metric == "test_accuracy") ++evaluations;
  }
  EXPECT_EQ(last, 12);
  EXPECT_EQ(evaluations, 2) << "evalEvery 6 over 12 iterations: at 6 and at the end";

  // stdout is a file here, not a terminal: progress comes as whole lines (no bar, no escape
  // codes), the last one at the last iteration, then the summary table.
  const std::string out = slurp(dir.path("stdout"));
  EXPECT_EQ(out.find('\033'), std::string::npos) << "terminal escape codes in a file";
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("progress: it 12/12 (100%)"), std::string::npos) << out;
  const auto table = out.find("== long: finished ==");
  ASSERT_NE(table, std::string::npos) << out;
  EXPECT_GT(table, out.find("progress: it 12/12")) << "the summary comes last";
  EXPECT_NE(out.find("iterations:     12 ", table), std::string::npos) << out;
  EXPECT_EQ(out.find("averaged model", table), std::string::npos) << "a pipeline has one model";
  EXPECT_NE(out.find("dev0", table), std::string::npos) << "a row per device: " << out;
  EXPECT_NE(out.find("dev1", table), std::string::npos) << out;

  const std::string wide = dir.path("wide.csv");
  const pid_t exp = spawn("EDGERIG_RUN", {"export", run_dir, wide}, dir);
  ASSERT_GT(exp, 0);
  ASSERT_EQ(waitExit(exp, 30s), 0) << slurp(dir.path("stderr"));
  std::ifstream csv(wide);
  std::string header, row;
  ASSERT_TRUE(std::getline(csv, header));
  EXPECT_EQ(header.rfind("time_s,iteration,device,", 0), 0u) << header;
  EXPECT_NE(header.find("train_loss"), std::string::npos) << header;
  int rows = 0;
  while (std::getline(csv, row)) ++rows;
  EXPECT_GE(rows, 12) << "a row per iteration at least";
  const pid_t missing = spawn("EDGERIG_RUN", {"export", dir.path("no-such-run"), wide}, dir);
  EXPECT_NE(waitExit(missing, 30s), 0) << "export of a folder that is not there";
  EXPECT_NE(slurp(dir.path("stderr")).find("no-such-run"), std::string::npos);
}

// `edgerig RUN_DIR`, as the usage line offers: the folder is replayed (it was read as an
// experiment file once, and the window never opened: "invalid JSON ... unexpected end of input").
TEST(RunCli, TheControlRoomReplaysARunFolderGivenOnTheCommandLine) {
  testsupport::ScratchDir dir("run-cli-replay");
  setenv("XDG_CONFIG_HOME", dir.path("config").c_str(), 1);
  const std::string run_dir = dir.path("run");
  const pid_t run =
      spawn("EDGERIG_RUN",
            {longExperiment(dir), "--set", "training.maxIterations=4", "--out", run_dir}, dir);
  ASSERT_GT(run, 0);
  ASSERT_EQ(waitExit(run, 120s), 0) << slurp(dir.path("stderr"));
  const std::string shot = dir.path("replay.png");
  const pid_t gui = spawn("EDGERIG_GUI", {run_dir, "--screenshot", shot, "--after", "1"}, dir);
  ASSERT_GT(gui, 0);
  EXPECT_EQ(waitExit(gui, 60s), 0) << slurp(dir.path("stderr"));
  EXPECT_FALSE(slurp(shot).empty()) << "no screenshot: the window never opened";
}

TEST(RunCli, AMissingDatasetFolderFailsTheRunAtSetUpNamingThePathAndThePackage) {
  testsupport::ScratchDir dir("run-cli-data");
  const std::string missing = dir.path("no-fashion-mnist-here");
  const std::string experiment = dir.path("data.json");
  std::ofstream(experiment) << R"({
    "name": "nodata", "seed": 2, "devices": {"localCount": 2}, "model": {"name": "mlp"},
    "dataset": {"name": "fashion-mnist", "dataDir": ")"
                            << missing << R"("},
    "training": {"batchSize": 64, "maxIterations": 10, "evalEvery": 0}})";
  const std::string run_dir = dir.path("run");
  const pid_t pid = spawn("EDGERIG_RUN", {experiment, "--out", run_dir}, dir);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid, 60s), 1);
  const std::string err = slurp(dir.path("stderr"));
  EXPECT_NE(err.find(missing), std::string::npos) << err;
  EXPECT_NE(err.find("dataset-fashion-mnist"), std::string::npos) << err;
  EXPECT_NE(slurp(dir.path("stdout")).find("== nodata: FAILED =="), std::string::npos);
  auto run = readRun(run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  ASSERT_FALSE(run->events.empty());
  EXPECT_EQ(run->events.back().kind, "run_failed");
  for (const auto& m : run->metrics) {
    EXPECT_NE(m.metric, "train_loss") << "a run without its data trained";
  }
}

}  // namespace
}  // namespace edgerig
