// edgerig-run compare as a user runs it: a sweep of two short synthetic runs writes the comparison
// folder, whose summary rows match the run folders (recomputed here from their CSV files, not by
// the code under test) and whose runs' config.json differ in exactly the swept field; --from
// rebuilds the same summary without training; Ctrl-C in the middle keeps the finished runs and
// marks the stopped one; a bad sweep is refused before anything runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli_process.h"
#include "core/runlog/csv.h"

namespace edgerig {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testsupport::slurp;
using testsupport::spawn;
using testsupport::waitExit;

std::string writeExperiment(const testsupport::ScratchDir& dir, int64_t iterations) {
  const std::string path = dir.path("exp.json");
  std::ofstream(path) << R"({
    "name": "cmp", "seed": 4, "devices": {"localCount": 2}, "model": {"name": "mlp"},
    "dataset": {"name": "synthetic", "syntheticSize": 2048},
    "algorithm": {"name": "gpipe", "microBatches": 2, "plan": "even"},
    "training": {"batchSize": 32, "learningRate": 0.1, "epochs": 0, "maxIterations": )"
                      << iterations << R"(, "evalEvery": 10, "evalSamples": 256}})";
  return path;
}

// A CSV file as rows of cells.
std::vector<std::vector<std::string>> table(const std::string& path) {
  auto rows = parseCsv(slurp(path));
  EXPECT_TRUE(rows.isOk()) << path << ": " << rows.status().message();
  return rows ? *rows : std::vector<std::vector<std::string>>{};
}

// summary.csv as one map per run: column -> cell.
std::vector<std::map<std::string, std::string>> summaryRows(const std::string& path) {
  const auto rows = table(path);
  std::vector<std::map<std::string, std::string>> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    std::map<std::string, std::string> m;
    for (size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) m[rows[0][c]] = rows[r][c];
    out.push_back(m);
  }
  return out;
}

// What a run folder says, worked out here from its metrics.csv and events.csv.
struct Recomputed {
  std::vector<std::tuple<double, int64_t, double>> accuracy;  // time, iteration, value
  double wall = 0, samples_per_s = -1, bytes_total = 0;
  double second_half = -1;  // median samples_per_s over iterations past the last one's half
  int64_t iterations = 0;
  std::map<std::string, double> bytes_by_kind;
  std::map<std::string, int> events;
  std::string end;
};

Recomputed recompute(const std::string& run_dir) {
  Recomputed r;
  std::map<std::string, double> sent;
  std::map<std::string, std::map<std::string, double>> kinds;
  std::vector<std::pair<int64_t, double>> rates;  // the run-level samples_per_s rows
  const auto metrics = table(run_dir + "/metrics.csv");
  for (size_t i = 1; i < metrics.size(); ++i) {
    const auto& row = metrics[i];  // time_s,iteration,device,metric,value
    const double t = std::stod(row[0]), v = std::stod(row[4]);
    const int64_t it = std::stoll(row[1]);
    r.wall = std::max(r.wall, t);
    r.iterations = std::max(r.iterations, it);
    if (row[2].empty() && row[3] == "test_accuracy") r.accuracy.emplace_back(t, it, v);
    if (row[2].empty() && row[3] == "samples_per_s_average") r.samples_per_s = v;
    if (row[2].empty() && row[3] == "samples_per_s") rates.emplace_back(it, v);
    if (!row[2].empty() && row[3] == "bytes_sent") sent[row[2]] = v;
    if (!row[2].empty() && row[3].rfind("bytes_sent_", 0) == 0)
      kinds[row[3].substr(11)][row[2]] = v;
  }
  for (const auto& [d, v] : sent) r.bytes_total += v;
  std::vector<double> late;
  for (const auto& [it, v] : rates) {
    if (2 * it > rates.back().first) late.push_back(v);
  }
  std::sort(late.begin(), late.end());
  if (!late.empty()) {
    const size_t n = late.size();
    r.second_half = n % 2 ? late[n / 2] : (late[n / 2 - 1] + late[n / 2]) / 2;
  }
  for (const auto& [k, devices] : kinds) {
    for (const auto& [d, v] : devices) r.bytes_by_kind[k] += v;
  }
  const auto events = table(run_dir + "/events.csv");
  for (size_t i = 1; i < events.size(); ++i) {
    const auto& row = events[i];  // time_s,iteration,device,kind,detail
    r.wall = std::max(r.wall, std::stod(row[0]));
    r.iterations = std::max(r.iterations, static_cast<int64_t>(std::stoll(row[1])));
    ++r.events[row[3]];
    r.end = row[3];
  }
  return r;
}

double number(const std::map<std::string, std::string>& row, const std::string& column) {
  auto it = row.find(column);
  EXPECT_NE(it, row.end()) << "no column " << column;
  return it == row.end() || it->second.empty() ? std::nan("") : std::stod(it->second);
}

std::map<std::string, nlohmann::json> leaves(const nlohmann::json& j, const std::string& at = "") {
  std::map<std::string, nlohmann::json> out;
  if (!j.is_object()) return {{at, j}};
  for (const auto& [k, v] : j.items()) {
    for (auto& [path, leaf] : leaves(v, at.empty() ? k : at + "." + k)) out[path] = leaf;
  }
  return out;
}

// One comparison of two short runs, shared by the tests that read it.
class CompareCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testsupport::ScratchDir>("compare-cli");
    out_ = dir_->path("cmp");
    const pid_t pid = spawn("EDGERIG_RUN",
                            {"compare", writeExperiment(*dir_, 30), "--sweep",
                             "algorithm.microBatches=2,4", "--out", out_, "--quiet"},
                            *dir_);
    exit_ = pid > 0 ? waitExit(pid, 150s) : -1;
    stdout_ = slurp(dir_->path("stdout"));
    stderr_ = slurp(dir_->path("stderr"));
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::unique_ptr<testsupport::ScratchDir> dir_;
  static std::string out_, stdout_, stderr_;
  static int exit_;
};
std::unique_ptr<testsupport::ScratchDir> CompareCli::dir_;
std::string CompareCli::out_, CompareCli::stdout_, CompareCli::stderr_;
int CompareCli::exit_ = -1;

TEST_F(CompareCli, WritesTheFolderAndItsSummaryMatchesTheRuns) {
  ASSERT_EQ(exit_, 0) << stdout_ << stderr_;
  const std::vector<std::string> runs{"microBatches=2", "microBatches=4"};
  for (const auto& r : runs) ASSERT_TRUE(fs::exists(out_ + "/" + r + "/metrics.csv")) << r;
  const std::string png = slurp(out_ + "/compare.png"), pdf = slurp(out_ + "/compare.pdf");
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(png.size(), 20000u);  // three charts with lines and text, not an empty image
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");
  EXPECT_NE(stdout_.find("ratios in parentheses are to the first run"), std::string::npos)
      << stdout_;

  const auto rows = summaryRows(out_ + "/summary.csv");
  ASSERT_EQ(rows.size(), 2u);
  std::vector<Recomputed> expected;
  for (const auto& r : runs) expected.push_back(recompute(out_ + "/" + r));
  double best_final = 0;
  for (const auto& e : expected) {
    ASSERT_FALSE(e.accuracy.empty());
    best_final = std::max(best_final, std::get<2>(e.accuracy.back()));
  }
  const double target = std::round(0.98 * best_final * 1e4) / 1e4;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& row = rows[i];
    const Recomputed& e = expected[i];
    SCOPED_TRACE(runs[i]);
    EXPECT_EQ(row.at("run"), runs[i]);
    EXPECT_EQ(row.at("status"), "finished");
    EXPECT_EQ(e.end, "run_finished");
    EXPECT_EQ(row.at("algorithm.microBatches"), runs[i].substr(runs[i].find('=') + 1));
    double best = 0;
    for (const auto& a : e.accuracy) best = std::max(best, std::get<2>(a));
    EXPECT_DOUBLE_EQ(number(row, "final_test_accuracy"), std::get<2>(e.accuracy.back()));
    EXPECT_DOUBLE_EQ(number(row, "best_test_accuracy"), best);
    EXPECT_NEAR(number(row, "wall_time_s"), e.wall, 1e-9);
    EXPECT_NEAR(number(row, "target_accuracy"), target, 1e-12);
    std::optional<std::tuple<double, int64_t, double>> reached;
    for (const auto& a : e.accuracy) {
      if (std::get<2>(a) >= target) {
        reached = a;
        break;
      }
    }
    ASSERT_TRUE(reached.has_value());  // the run with the best accuracy reaches 98 % of it
    EXPECT_NEAR(number(row, "time_to_target_s"), std::get<0>(*reached), 1e-9);
    EXPECT_EQ(number(row, "iterations_to_target"), std::get<1>(*reached));
    EXPECT_EQ(number(row, "iterations"), 30);
    EXPECT_EQ(e.iterations, 30);
    EXPECT_NEAR(number(row, "samples_per_s"), e.samples_per_s, 0.006);  // printed to 2 decimals
    EXPECT_GT(e.second_half, 0);
    EXPECT_NEAR(number(row, "samples_per_s_second_half"), e.second_half, 0.006);
    EXPECT_GT(e.bytes_total, 0);
    EXPECT_DOUBLE_EQ(number(row, "bytes_total"), e.bytes_total);
    for (const auto& [kind, bytes] : e.bytes_by_kind) {
      EXPECT_DOUBLE_EQ(number(row, "bytes_sent_" + kind), bytes) << kind;
    }
    EXPECT_GT(e.bytes_by_kind.at("activation"), 0);
    for (const auto& [kind, n] : e.events) EXPECT_EQ(number(row, "events_" + kind), n) << kind;
    EXPECT_EQ(number(row, "lost_devices"), 0);
    EXPECT_EQ(number(row, "faults"), 0);
  }
}

TEST_F(CompareCli, ASweepMakesRunsThatDifferInExactlyTheSweptField) {
  ASSERT_EQ(exit_, 0) << stdout_ << stderr_;
  const auto a = leaves(nlohmann::json::parse(slurp(out_ + "/microBatches=2/config.json")));
  const auto b = leaves(nlohmann::json::parse(slurp(out_ + "/microBatches=4/config.json")));
  ASSERT_EQ(a.size(), b.size());
  std::vector<std::string> differ;
  for (const auto& [path, value] : a) {
    if (!b.count(path) || b.at(path) != value) differ.push_back(path);
  }
  EXPECT_EQ(differ, (std::vector<std::string>{"algorithm.microBatches"}));
  EXPECT_EQ(a.at("algorithm.microBatches"), 2);
  EXPECT_EQ(b.at("algorithm.microBatches"), 4);
  EXPECT_EQ(a.at("seed"), b.at("seed"));
}

TEST_F(CompareCli, FromRebuildsTheSameSummaryWithoutTraining) {
  ASSERT_EQ(exit_, 0) << stdout_ << stderr_;
  testsupport::ScratchDir dir("compare-cli-from");
  const std::string again = dir.path("again");
  const pid_t pid = spawn(
      "EDGERIG_RUN",
      {"compare", "--from", out_ + "/microBatches=2", out_ + "/microBatches=4", "--out", again},
      dir);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid, 60s), 0) << slurp(dir.path("stderr"));
  EXPECT_EQ(slurp(again + "/summary.csv"), slurp(out_ + "/summary.csv"));
  EXPECT_TRUE(fs::exists(again + "/compare.png"));
  EXPECT_TRUE(fs::exists(again + "/compare.pdf"));
  // Nothing ran: no run folder was made there.
  for (const auto& e : fs::directory_iterator(again)) EXPECT_FALSE(e.is_directory()) << e.path();
}

// --xy: a point per run, one summary.csv column (or a ratio of two) against another, in
// curve.csv and xy.png; a column summary.csv does not have is named in the error.
TEST_F(CompareCli, XyDrawsOneColumnAgainstAnother) {
  ASSERT_EQ(exit_, 0) << stdout_ << stderr_;
  testsupport::ScratchDir dir("compare-cli-xy");
  const std::string xy = dir.path("xy");
  pid_t pid = spawn(
      "EDGERIG_RUN",
      {"compare", "--from", out_, "--out", xy, "--xy", "bytes_total/iterations,samples_per_s"},
      dir);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitExit(pid, 60s), 0) << slurp(dir.path("stderr"));
  const auto summary = summaryRows(out_ + "/summary.csv");
  const auto curve = summaryRows(xy + "/curve.csv");
  ASSERT_EQ(curve.size(), 2u);
  for (size_t i = 0; i < curve.size(); ++i) {
    EXPECT_EQ(curve[i].at("run"), summary[i].at("run"));
    EXPECT_EQ(curve[i].at("label"), "microBatches=" + summary[i].at("algorithm.microBatches"));
    EXPECT_EQ(curve[i].at("group"), "");
    EXPECT_NEAR(number(curve[i], "bytes_total/iterations"),
                number(summary[i], "bytes_total") / number(summary[i], "iterations"), 1e-6);
    EXPECT_DOUBLE_EQ(number(curve[i], "samples_per_s"), number(summary[i], "samples_per_s"));
  }
  const std::string png = slurp(xy + "/xy.png");
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(slurp(xy + "/xy.pdf").substr(0, 5), "%PDF-");

  const std::string bad = dir.path("bad");
  pid = spawn("EDGERIG_RUN",
              {"compare", "--from", out_, "--out", bad, "--xy", "iterations,time_lost"}, dir);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid, 60s), 1);
  EXPECT_NE(slurp(dir.path("stderr")).find("no column 'time_lost'"), std::string::npos)
      << slurp(dir.path("stderr"));
  pid = spawn("EDGERIG_RUN", {"compare", "--from", out_, "--out", bad, "--xy", "iterations"}, dir);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid, 60s), 2) << "a malformed --xy is refused before anything is read";
  EXPECT_NE(slurp(dir.path("stderr")).find("--xy takes X,Y"), std::string::npos)
      << slurp(dir.path("stderr"));
}

TEST(CompareCliStop, CtrlCInTheMiddleKeepsTheFinishedRuns) {
  testsupport::ScratchDir dir("compare-cli-stop");
  const std::string out = dir.path("cmp");
  const pid_t pid = spawn(
      "EDGERIG_RUN",
      {"compare", writeExperiment(dir, 1000000), "--variant", "short:training.maxIterations=12",
       "--variant", "long:", "--variant", "never:training.batchSize=16", "--out", out, "--quiet"},
      dir);
  ASSERT_GT(pid, 0);
  if (!testsupport::waitForTraining(out + "/long")) {
    kill(-pid, SIGKILL);
    waitExit(pid, 5s);
    FAIL() << "the second run did not train within 60 s; " << slurp(dir.path("stderr"));
  }
  kill(-pid, SIGINT);  // a terminal's Ctrl-C: the whole foreground group
  EXPECT_EQ(waitExit(pid, 60s), 130) << slurp(dir.path("stderr"));
  EXPECT_NE(slurp(dir.path("stdout")).find("not run: never"), std::string::npos)
      << slurp(dir.path("stdout"));
  EXPECT_FALSE(fs::exists(out + "/never"));
  EXPECT_EQ(recompute(out + "/short").end, "run_finished");
  EXPECT_EQ(recompute(out + "/long").end, "run_stopped");
  EXPECT_EQ(recompute(out + "/short").iterations, 12);
  const auto rows = summaryRows(out + "/summary.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("run"), "short");
  EXPECT_EQ(rows[0].at("status"), "finished");
  EXPECT_EQ(rows[1].at("run"), "long");
  EXPECT_EQ(rows[1].at("status"), "stopped");
  EXPECT_TRUE(fs::exists(out + "/compare.png"));
}

TEST(CompareCliErrors, ABadSweepIsRefusedBeforeAnythingRuns) {
  testsupport::ScratchDir dir("compare-cli-bad");
  const std::string out = dir.path("cmp");
  const pid_t pid = spawn(
      "EDGERIG_RUN",
      {"compare", writeExperiment(dir, 5), "--sweep", "algorithm.plna=even", "--out", out}, dir);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(waitExit(pid, 30s), 2);
  EXPECT_NE(slurp(dir.path("stderr")).find("algorithm.plna"), std::string::npos)
      << slurp(dir.path("stderr"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace edgerig
