// Runs side by side from their folders: time and iterations to a target on runs whose accuracy is
// scripted (given target, default 98 % of the best final), bytes by kind and in total, events by
// kind, the settings that differ, the whole-run samples/s, summary.csv's header and cells, and the
// terminal table's ratios. Expected values are worked out by hand from the scripts.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <filesystem>
#include <map>

#include "core/runlog/comparison_curve.h"
#include "core/runlog/csv.h"
#include "core/runlog/run_comparison.h"
#include "run_dir_fixture.h"
#include "tests/support/fake_run.h"

namespace edgerig {
namespace {

using testsupport::FakeRun;
using testsupport::writeFakeRun;

class RunComparison : public testing::ScratchDir {
 protected:
  std::string write(const std::string& name, const FakeRun& f) {
    const std::string dir = path(name);
    const Status st = writeFakeRun(dir, f);
    EXPECT_TRUE(st.isOk()) << st.message();
    return dir;
  }
};

// Accuracy 0.5, 0.79, 0.81, 0.7, 0.85 after iterations 20, 40, 60, 80, 100.
double scripted(int64_t it) {
  static const std::map<int64_t, double> kAt{
      {20, 0.5}, {40, 0.79}, {60, 0.81}, {80, 0.7}, {100, 0.85}};
  return kAt.at(it);
}

std::string config(const std::string& plan, int micro_batches) {
  return R"({"name": "x", "description": ")" + plan + R"( prose", "seed": 3,
    "algorithm": {"name": "gpipe", "microBatches": )" +
         std::to_string(micro_batches) + R"(, "plan": ")" + plan + R"(", "cuts": []}})";
}

TEST_F(RunComparison, TimeAndIterationsToAGivenTargetOnAScriptedRun) {
  FakeRun f;
  f.accuracy = scripted;  // iterations 20 apart, 0.1 s each, after 1 s of set-up
  auto c = compareRunDirs({write("scripted", f)}, 0.8);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  const ComparisonRow& r = c->rows.at(0);
  // The first evaluation at or above 0.8 is after iteration 60 (0.79 before it is not enough;
  // the dip to 0.7 later does not matter).
  ASSERT_TRUE(r.time_to_target_s.has_value());
  EXPECT_DOUBLE_EQ(*r.time_to_target_s, 1.0 + 0.1 * 60);
  EXPECT_EQ(r.iterations_to_target, 60);
  EXPECT_DOUBLE_EQ(*r.final_test_accuracy, 0.85);
  EXPECT_DOUBLE_EQ(*r.best_test_accuracy, 0.85);
  EXPECT_EQ(r.iterations, 100);
  EXPECT_DOUBLE_EQ(r.wall_time_s, 1.0 + 10.0 + 0.5);  // the last row: run_finished
  EXPECT_EQ(r.status, "finished");

  // A target exactly at an evaluation counts as reached there.
  c = compareRunDirs({path("scripted")}, 0.81);
  EXPECT_EQ(c->rows.at(0).iterations_to_target, 60);
  // A target never reached leaves both empty.
  c = compareRunDirs({path("scripted")}, 0.86);
  EXPECT_FALSE(c->rows.at(0).time_to_target_s.has_value());
  EXPECT_FALSE(c->rows.at(0).iterations_to_target.has_value());
}

// Set-up and evaluations are not training: 1 s of set-up, 0.1 s an iteration, and each
// evaluation (after 20, 40, 60...) 2 s before its result. The target is reached at the
// evaluation after 60: 6 s of training, 1 + 6 + 3 x 2 = 13 s after the start.
TEST_F(RunComparison, TrainingTimeToTargetLeavesOutSetUpAndEvaluations) {
  FakeRun f;
  f.accuracy = scripted;
  f.eval_s = 2.0;
  auto c = compareRunDirs({write("evaluating", f)}, 0.8);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  const ComparisonRow& r = c->rows.at(0);
  ASSERT_TRUE(r.time_to_target_s.has_value());
  EXPECT_NEAR(*r.time_to_target_s, 1.0 + 6.0 + 3 * 2.0, 1e-9);
  ASSERT_TRUE(r.training_to_target_s.has_value());
  EXPECT_NEAR(*r.training_to_target_s, 6.0, 1e-9);
  EXPECT_EQ(r.iterations_to_target, 60);
  // Every evaluation has its own training time: 2, 4, 6, 8, 10 s.
  ASSERT_EQ(r.test_accuracy.size(), 5u);
  for (size_t i = 0; i < r.test_accuracy.size(); ++i) {
    ASSERT_TRUE(r.test_accuracy[i].training_s.has_value());
    EXPECT_NEAR(*r.test_accuracy[i].training_s, 2.0 * static_cast<double>(i + 1), 1e-9) << i;
  }
  // Without evaluation time the two differ by the set-up alone.
  FakeRun quick;
  quick.accuracy = scripted;
  c = compareRunDirs({write("quick", quick)}, 0.8);
  ASSERT_TRUE(c.isOk());
  EXPECT_NEAR(*c->rows.at(0).training_to_target_s, 6.0, 1e-9);
}

TEST_F(RunComparison, DefaultTargetIs98PercentOfTheBestFinalAccuracy) {
  FakeRun slow;
  slow.accuracy = scripted;  // final 0.85
  FakeRun fast;
  fast.seconds_per_iteration = 0.05;
  fast.accuracy = [](int64_t it) { return it >= 40 ? 0.9 : 0.6; };  // final 0.9
  auto c = compareRunDirs({write("slow", slow), write("fast", fast)}, std::nullopt);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_FALSE(c->target_given);
  // 0.98 x 0.9 = 0.882, to 4 decimals.
  ASSERT_TRUE(c->target_accuracy.has_value());
  EXPECT_DOUBLE_EQ(*c->target_accuracy, 0.882);
  EXPECT_FALSE(c->rows[0].time_to_target_s.has_value());  // 0.85 never gets there
  EXPECT_EQ(c->rows[1].iterations_to_target, 40);
  EXPECT_DOUBLE_EQ(*c->rows[1].time_to_target_s, 1.0 + 0.05 * 40);
}

TEST_F(RunComparison, BytesEventsAndThroughputFromTheFolder) {
  FakeRun f;
  f.devices = 3;
  f.iterations = 40;
  f.seconds_per_iteration = 0.125;  // 512 samples/s
  f.eval_every = 10;
  f.bytes_per_iteration = {{"activation", 1000}, {"weights", 10}};
  f.extra_events = {
      {1.0, 0, "dev1", "fault_applied", "profile slowdown x10"},  // hardware, not a fault
      {2.0, 8, "dev1", "fault_applied", "injected slowdown x4"},
      {3.0, 16, "dev2", "fault_applied", "scheduled freeze 2 s"},
      {3.5, 20, "", "plan_changed", "re-plan: a | b"},
      {4.0, 24, "dev2", "device_lost", "no heartbeat for 3.5 s"},
      {4.5, 28, "", "recovery_started", "three-phase"},
      {4.6, 28, "", "recovery_phase", "a phase of that recovery, not another one"},
      {5.0, 32, "", "recovery_finished", "back to 2 stages"},
      {5.0, 32, "", "plan_changed", "recovery plan: a | b"}};
  f.end_kind = "run_stopped";
  auto c = compareRunDirs({write("events", f)}, std::nullopt);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  const ComparisonRow& r = c->rows.at(0);
  EXPECT_EQ(r.status, "stopped");
  // The last report is at 6.0 s (every 0.25 s up to the last iteration at 1 + 40 x 0.125 = 6 s):
  // (6 - 1) / 0.125 = 40 iterations done; device d sends (d + 1) x per-iteration bytes.
  const double devices = 1 + 2 + 3;
  EXPECT_DOUBLE_EQ(r.bytes_by_kind.at("activation"), 1000 * 40 * devices);
  EXPECT_DOUBLE_EQ(r.bytes_by_kind.at("weights"), 10 * 40 * devices);
  EXPECT_DOUBLE_EQ(r.bytes_total, 1010 * 40 * devices);
  EXPECT_EQ(r.faults, 2);
  EXPECT_EQ(r.replans, 2);  // the first plan is not a re-plan
  EXPECT_EQ(r.recoveries, 2);
  EXPECT_EQ(r.lost_devices, 1);
  EXPECT_EQ(r.events_by_kind.at("fault_applied"), 3);
  EXPECT_EQ(r.events_by_kind.at("plan_changed"), 3);
  EXPECT_EQ(r.events_by_kind.at("device_joined"), 3);
  ASSERT_TRUE(r.samples_per_s.has_value());
  EXPECT_DOUBLE_EQ(*r.samples_per_s, 512);
}

TEST_F(RunComparison, OlderFoldersRecordedTheAverageAsSamplesPerS) {
  const std::string dir = path("old");
  auto log = RunLog::create(dir, "{}");
  ASSERT_TRUE(log.isOk());
  (*log)->append(std::vector<MetricSample>{{1, 1, "", "samples_per_s", 100},
                                           {2, 2, "", "samples_per_s", 150}});
  auto c = compareRunDirs({dir}, std::nullopt);
  ASSERT_TRUE(c.isOk());
  EXPECT_DOUBLE_EQ(*c->rows[0].samples_per_s, 150);
  EXPECT_EQ(c->rows[0].status, "incomplete");
  EXPECT_FALSE(c->target_accuracy.has_value());  // never evaluated: no target
}

// A run slowed half-way: 200 samples/s over iterations 1–50, then 100 (one dip to 0 at 80, a
// stall). The second half (iterations 51–100) is its median rate there, the stall outvoted; the
// whole-run figure is the last average. An odd count takes the middle value, an even count the
// mean of the two middle ones.
TEST_F(RunComparison, TheSecondHalfsRateIsTheMedianOfItsCurrentRates) {
  const std::string dir = path("slowed");
  auto log = RunLog::create(dir, "{}");
  ASSERT_TRUE(log.isOk());
  std::vector<MetricSample> rows;
  for (int64_t it = 1; it <= 100; ++it) {
    const double rate = it == 80 ? 0 : it <= 50 ? 200 : 100;
    rows.push_back({0.1 * static_cast<double>(it), it, "", "samples_per_s", rate});
    rows.push_back({0.1 * static_cast<double>(it), it, "", "samples_per_s_average", 150});
  }
  (*log)->append(rows);
  (*log).reset();
  auto c = compareRunDirs({dir}, std::nullopt);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  ASSERT_TRUE(c->rows[0].samples_per_s_second_half.has_value());
  EXPECT_DOUBLE_EQ(*c->rows[0].samples_per_s_second_half, 100);
  EXPECT_DOUBLE_EQ(*c->rows[0].samples_per_s, 150);

  // Iterations 1–4 at 10, 20, 40, 80: the second half is 3 and 4, (40 + 80) / 2.
  const std::string even = path("even-count");
  auto log2 = RunLog::create(even, "{}");
  ASSERT_TRUE(log2.isOk());
  (*log2)->append(std::vector<MetricSample>{{1, 1, "", "samples_per_s", 10},
                                            {2, 2, "", "samples_per_s", 20},
                                            {3, 3, "", "samples_per_s", 40},
                                            {4, 4, "", "samples_per_s", 80}});
  (*log2).reset();
  c = compareRunDirs({even}, std::nullopt);
  ASSERT_TRUE(c.isOk());
  EXPECT_DOUBLE_EQ(*c->rows[0].samples_per_s_second_half, 60);
  // Only iteration 0: no second half.
  const std::string none = path("only-zero");
  auto log3 = RunLog::create(none, "{}");
  ASSERT_TRUE(log3.isOk());
  (*log3)->append(std::vector<MetricSample>{{1, 0, "", "samples_per_s", 10}});
  (*log3).reset();
  c = compareRunDirs({none}, std::nullopt);
  ASSERT_TRUE(c.isOk());
  EXPECT_FALSE(c->rows[0].samples_per_s_second_half.has_value());
}

TEST_F(RunComparison, SettingsAreTheFieldsThatDiffer) {
  FakeRun a, b, d;
  a.config_json = config("even", 4);
  b.config_json = config("balanced", 4);
  d.config_json = config("balanced", 2);
  auto c = compareRunDirs({write("a", a), write("b", b), write("d", d)}, std::nullopt);
  ASSERT_TRUE(c.isOk());
  // The description differs too, but it is prose, not a setting.
  using Settings = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(c->rows[0].settings,
            (Settings{{"algorithm.microBatches", "4"}, {"algorithm.plan", "even"}}));
  EXPECT_EQ(c->rows[2].settings,
            (Settings{{"algorithm.microBatches", "2"}, {"algorithm.plan", "balanced"}}));
}

TEST_F(RunComparison, SummaryCsvHeaderAndCells) {
  FakeRun a, b;
  a.config_json = config("even", 4);
  b.config_json = config("balanced", 4);
  a.accuracy = scripted;
  b.accuracy = scripted;
  b.seconds_per_iteration = 0.05;
  b.extra_events = {{2.0, 20, "dev0", "fault_applied", "injected freeze 1 s"}};
  auto c = compareRunDirs({write("even", a), write("balanced", b)}, 0.8);
  ASSERT_TRUE(c.isOk());
  const std::string csv_path = path("summary.csv");
  ASSERT_TRUE(writeSummaryCsv(*c, csv_path).isOk());
  auto rows = parseCsv(slurp(csv_path));
  ASSERT_TRUE(rows.isOk());
  ASSERT_EQ(rows->size(), 3u);
  const std::vector<std::string> header{"run",
                                        "status",
                                        "algorithm.plan",
                                        "final_test_accuracy",
                                        "best_test_accuracy",
                                        "averaged_model_accuracy",
                                        "wall_time_s",
                                        "target_accuracy",
                                        "time_to_target_s",
                                        "training_to_target_s",
                                        "iterations_to_target",
                                        "iterations",
                                        "samples_per_s",
                                        "samples_per_s_second_half",
                                        "bytes_total",
                                        "bytes_sent_activation",
                                        "bytes_sent_gradient",
                                        "faults",
                                        "replans",
                                        "recoveries",
                                        "lost_devices",
                                        "training_s",
                                        "iterations_retrained",
                                        "time_lost_s",
                                        "events_device_joined",
                                        "events_fault_applied",
                                        "events_plan_changed",
                                        "events_run_finished",
                                        "events_run_started",
                                        "events_training_started"};
  EXPECT_EQ(rows->at(0), header);
  // balanced: 0.05 s per iteration, so 1280 samples/s; target 0.8 reached after 60 iterations,
  // at 1 + 3 s; its last report at 6.0 s counted (6 - 1) / 0.05 = 100 iterations of bytes:
  // activations 1e5 x 100 x (1 + 2), gradients half of that.
  const std::vector<std::string> balanced{
      "balanced", "finished", "balanced", "0.85", "0.85",    "",        "6.500",    "0.8",
      "4.000",    "3.000",    "60",       "100",  "1280.00", "1280.00", "45000000", "30000000",
      "15000000", "1",        "0",        "0",    "0",       "5.000",   "0",        "",
      "2",        "1",        "1",        "1",    "1",       "1"};
  // (training to target: 60 iterations of 0.05 s; training_s: 100 of them after
  // training_started; no time lost: its fault has no fault-free twin here, the other runs differ
  // in their plan.)
  EXPECT_EQ(rows->at(2), balanced);
  EXPECT_EQ(rows->at(1)[8], "7.000");  // even: after 60 iterations of 0.1 s
  EXPECT_EQ(rows->at(1)[9], "6.000");  // of which the set-up was 1 s
  EXPECT_EQ(rows->at(1)[25], "0");     // no fault_applied there
}

// A decentralized run also evaluates its devices' averaged model: the comparison takes the last
// of those beside the devices' own final accuracy, and shows it only when a run has it.
TEST_F(RunComparison, TheAveragedModelsLastEvaluationIsItsOwnColumn) {
  FakeRun pipeline, gossip;
  gossip.averaged_accuracy = [](int64_t it) { return it == 100 ? 0.875 : 0.5; };
  auto c = compareRunDirs({write("pipeline", pipeline), write("gossip", gossip)}, std::nullopt);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  EXPECT_FALSE(c->rows.at(0).averaged_model_accuracy.has_value());
  ASSERT_TRUE(c->rows.at(1).averaged_model_accuracy.has_value());
  EXPECT_DOUBLE_EQ(*c->rows.at(1).averaged_model_accuracy, 0.875);
  EXPECT_DOUBLE_EQ(*c->rows.at(1).final_test_accuracy, 0.9 * 100 / 150);  // its own models'
  const auto header = summaryHeader(*c);
  const auto column = std::find(header.begin(), header.end(), "averaged_model_accuracy");
  ASSERT_NE(column, header.end());
  const auto at = static_cast<size_t>(column - header.begin());
  const auto cells = summaryCells(*c);
  EXPECT_EQ(cells.at(0).at(at), "");
  EXPECT_EQ(cells.at(1).at(at), "0.875");
  const std::string table = summaryTable(*c);
  EXPECT_NE(table.find("averaged model accuracy"), std::string::npos) << table;
  EXPECT_NE(table.find("87.50 %"), std::string::npos) << table;
  // Pipelines alone: no such line.
  c = compareRunDirs({path("pipeline")}, std::nullopt);
  EXPECT_EQ(summaryTable(*c).find("averaged model"), std::string::npos);
}

// A faulted run against its fault-free twin: the run with every setting the same but the
// faults', and no fault applied. Two pairs that differ in redundancy, so each must find its own.
TEST_F(RunComparison, TimeLostIsMeasuredAgainstTheFaultFreeTwin) {
  auto cfg = [](int redundancy, int at) {
    return R"({"name": "x", "algorithm": {"name": "respipe", "redundancy": )" +
           std::to_string(redundancy) + R"(}, "faults": [{"atIteration": )" + std::to_string(at) +
           R"(, "device": 1, "kind": "crash"}]})";
  };
  auto run = [&](int redundancy, int at, double per_iteration, int retrained) {
    FakeRun f;
    f.config_json = cfg(redundancy, at);
    f.seconds_per_iteration = per_iteration;  // 100 iterations
    if (at < 100) {
      const double t = fakeRunTime(f, at);
      f.extra_events = {{t, at, "dev1", "fault_applied", "scheduled crash"},
                        {t + 0.01, at, "dev1", "device_lost", "closed the connection"},
                        {t + 0.02, at, "", "recovery_phase", "recovery: fetch took 0.001 s"},
                        {t + 0.03,
                         at,
                         "",
                         "recovered",
                         "went on without dev1",
                         {{"iterations_retrained", std::to_string(retrained)}}}};
    }
    return f;
  };
  auto c = compareRunDirs(
      {write("r0-none", run(0, 100000, 0.1, 0)), write("r0-crash", run(0, 50, 0.12, 5)),
       write("r1-none", run(1, 100000, 0.05, 0)), write("r1-crash", run(1, 50, 0.06, 0))},
      std::nullopt);
  ASSERT_TRUE(c.isOk()) << c.status().message();
  const auto& rows = c->rows;
  ASSERT_TRUE(rows[1].training_s.has_value());
  EXPECT_NEAR(*rows[1].training_s, 12.0, 1e-9);  // 100 x 0.12 s from training_started
  EXPECT_EQ(rows[1].iterations_retrained, 5);
  EXPECT_EQ(rows[1].recoveries, 1) << "the recovery_phase is part of the recovered one";
  // 12 - 10 s, plus 5 retrained iterations at the twin's 0.1 s each.
  ASSERT_TRUE(rows[1].time_lost_s.has_value());
  EXPECT_NEAR(*rows[1].time_lost_s, 2.5, 1e-9);
  ASSERT_TRUE(rows[3].time_lost_s.has_value());
  EXPECT_NEAR(*rows[3].time_lost_s, 1.0, 1e-9) << "against r1-none (5 s), not r0-none";
  EXPECT_FALSE(rows[0].time_lost_s.has_value()) << "no fault, no time lost";
  EXPECT_FALSE(rows[2].time_lost_s.has_value());
  // Without its twin a faulted run has none.
  auto alone = compareRunDirs({rows[1].run_dir, rows[2].run_dir}, std::nullopt);
  ASSERT_TRUE(alone.isOk());
  EXPECT_FALSE(alone->rows[0].time_lost_s.has_value());

  // The curve: a point per run with both values, labelled by what differs among the points.
  auto curve = curveOf(*c, {"training_s/iterations", "time_lost_s", ""});
  ASSERT_TRUE(curve.isOk()) << curve.status().message();
  ASSERT_EQ(curve->points.size(), 2u);
  EXPECT_EQ(curve->points[0].run, "r0-crash");
  EXPECT_EQ(curve->points[0].label, "redundancy=0");
  EXPECT_EQ(curve->points[0].group, "") << "one setting differs: one line";
  EXPECT_NEAR(curve->points[0].x, 0.12, 1e-9);
  EXPECT_NEAR(curve->points[0].y, 2.5, 1e-9);
  EXPECT_EQ(curve->points[1].label, "redundancy=1");
  auto unknown = curveOf(*c, {"replica_bytes", "time_lost_s", ""});
  ASSERT_FALSE(unknown.isOk());
  EXPECT_NE(unknown.status().message().find("no column 'replica_bytes'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("time_lost_s"), std::string::npos)
      << "the columns it has are listed";
  auto along = curveOf(*c, {"training_s/iterations", "time_lost_s", "algorithm.redundancy"});
  ASSERT_TRUE(along.isOk()) << along.status().message();
  EXPECT_EQ(along->points[1].label, "redundancy=1");
  auto not_along = curveOf(*c, {"training_s/iterations", "time_lost_s", "refreshEvery"});
  ASSERT_FALSE(not_along.isOk());
  EXPECT_NE(not_along.status().message().find("algorithm.redundancy"), std::string::npos)
      << not_along.status().message();
  EXPECT_TRUE(parseCurveSpec("a/b,c").isOk());
  EXPECT_EQ(parseCurveSpec("a,b,c")->along, "c");
  EXPECT_FALSE(parseCurveSpec("a").isOk());
  EXPECT_FALSE(parseCurveSpec("a,b,c,d").isOk());
  EXPECT_FALSE(parseCurveSpec(",b").isOk());
  EXPECT_FALSE(parseCurveSpec("a,b,").isOk());
}

TEST_F(RunComparison, TerminalTableGivesRatiosToTheFirstRun) {
  FakeRun a, b;
  b.seconds_per_iteration = 0.025;  // 4x the samples/s of a
  auto c = compareRunDirs({write("base", a), write("quick", b)}, std::nullopt);
  ASSERT_TRUE(c.isOk());
  const std::string table = summaryTable(*c);
  EXPECT_NE(table.find("samples/s (run average)"), std::string::npos) << table;
  EXPECT_NE(table.find("640.0"), std::string::npos) << table;
  EXPECT_NE(table.find("2560.0 (4.00x)"), std::string::npos) << table;
  EXPECT_NE(table.find("to the first run, base"), std::string::npos) << table;
}

TEST_F(RunComparison, AComparisonFolderStandsForItsRunsInItsOrder) {
  FakeRun f;
  f.iterations = 10;
  for (const char* name : {"a", "b", "c"}) write(std::string("cmp/") + name, f);
  spit(path("cmp/summary.csv"), "run,status\nc,finished\na,finished\n");  // b: not in it
  auto dirs = expandRunFolders({path("cmp"), path("cmp/b")});
  ASSERT_TRUE(dirs.isOk()) << dirs.status().message();
  EXPECT_EQ(*dirs, (std::vector<std::string>{path("cmp") + "/c", path("cmp") + "/a",
                                             path("cmp") + "/b", path("cmp/b")}));
  EXPECT_FALSE(expandRunFolders({path("nothing")}).isOk());
  std::filesystem::create_directories(path("empty"));
  auto empty = expandRunFolders({path("empty")});
  ASSERT_FALSE(empty.isOk());
  EXPECT_NE(empty.status().message().find("nor a comparison folder"), std::string::npos);
}

TEST_F(RunComparison, UniqueNamesAndUnreadableFolders) {
  EXPECT_EQ(uniqueRunNames({"a/run", "b/run", "c/other/", "d/run"}),
            (std::vector<std::string>{"run", "run-2", "other", "run-3"}));
  auto c = compareRunDirs({path("missing")}, std::nullopt);
  ASSERT_FALSE(c.isOk());
  EXPECT_NE(c.status().message().find(path("missing")), std::string::npos);
}

}  // namespace
}  // namespace edgerig
