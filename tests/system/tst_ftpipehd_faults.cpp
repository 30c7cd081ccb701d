// ftpipehd under faults that come at awkward moments, on real agent processes: a device killed
// while the layers are moving (the migration is aborted and recovered from, and every plan in
// partitions.csv still gives each layer to exactly one living device); a killed device that is
// started again and taken back through a re-plan; a stage frozen for less than the heartbeat
// timeout, caught by the backward deadline (timed from the run folder's events); and the
// iterations retrained, exact for a failure that lands right after a replication.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/controller/controller.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

namespace f = events::fields;

// cnn (6 layers: conv1 pool1 conv2 pool2 fc1 fc2) on `devices` local agents, even plan.
ExperimentConfig baseRun(const std::string& name, int devices, int iterations) {
  ExperimentConfig c;
  c.name = name;
  c.seed = 9;
  c.local_count = devices;
  c.model = "cnn";
  c.dataset = "fashion-mnist";
  c.train_limit = 2048;
  c.test_limit = 200;
  c.batch_size = 32;
  c.learning_rate = 0.05;
  c.momentum = 0.9;
  c.max_iterations = iterations;
  c.eval_every = 0;
  c.algorithm.name = "ftpipehd";
  c.algorithm.params.set("microBatches", int64_t{4});
  c.algorithm.params.set("plan", std::string("even"));
  c.algorithm.params.set("replanEvery", int64_t{0});
  c.algorithm.params.set("replicateNeighbourEvery", int64_t{3});
  c.algorithm.params.set("replicateGlobalEvery", int64_t{6});
  return c;
}

struct Outcome {
  RunSummary summary;
  RunData data;
  std::vector<double> losses;
};

// The plan and fault events of a run, for the test's output.
void printStory(const Outcome& r) {
  for (const auto& e : r.data.events) {
    if (e.kind == events::kReplanned || e.kind == events::kMigrated ||
        e.kind == events::kMigrationAborted || e.kind == events::kRecovered ||
        e.kind == events::kDeviceRejoined || e.kind == events::kFaultApplied ||
        e.kind == events::kDeviceLost || e.kind == events::kDeviceRestarted) {
      std::printf("[ story    ] %7.3f s it %3lld %-8s %-17s %s\n", e.time_s,
                  static_cast<long long>(e.iteration), e.device.c_str(), e.kind.c_str(),
                  e.detail.c_str());
    }
  }
}

// Runs c; `on_event` sees every event as it is written (on the controller's thread) and may ask
// the controller to kill or restart a local agent.
Outcome runIt(const ExperimentConfig& c, const std::string& name,
              std::function<void(const RunEvent&, Controller&)> on_event = {}) {
  Outcome r;
  Controller* self = nullptr;
  RunObserver o;
  if (on_event) {
    o.on_event = [&](const RunEvent& e) {
      if (self) on_event(e, *self);
    };
  }
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir(name);
  Controller controller(c, opts, o);
  self = &controller;
  r.summary = controller.run();
  auto data = readRun(opts.run_dir);
  EXPECT_TRUE(data.isOk()) << data.status().message();
  if (data) r.data = std::move(data).value();
  printStory(r);
  for (const auto& m : r.data.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) r.losses.push_back(m.value);
  }
  return r;
}

std::vector<RunEvent> eventsOf(const Outcome& r, std::string_view kind) {
  std::vector<RunEvent> out;
  for (const auto& e : r.data.events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

// partitions.csv, one plan per write, in order.
std::vector<std::vector<PartitionRecord>> plansOf(const Outcome& r) {
  std::vector<std::vector<PartitionRecord>> plans;
  for (const auto& p : r.data.partitions) {
    // A plan's rows are written one after the other, stage 0 first; each row has its own time
    // (one plan can straddle a millisecond), so stage 0 is what starts a plan.
    if (plans.empty() || p.stage == 0) plans.emplace_back();
    plans.back().push_back(p);
  }
  return plans;
}

// Every layer of the 6 is held by exactly one stage, the stages in order and contiguous, no
// device twice, and (if given) only devices of `allowed`.
void expectConsistent(const std::vector<PartitionRecord>& plan,
                      const std::set<std::string>& allowed, const std::string& what) {
  constexpr int kLayers = 6;
  std::vector<int> owners(kLayers, 0);
  std::set<std::string> devices;
  int next = 0;
  for (const auto& p : plan) {
    EXPECT_EQ(p.first_layer, next) << what << ": stage " << p.stage << " on " << p.device;
    EXPECT_LT(p.first_layer, p.last_layer) << what << ": stage " << p.stage << " has no layers";
    next = p.last_layer;
    for (int l = std::max(0, p.first_layer); l < std::min(kLayers, p.last_layer); ++l) ++owners[l];
    EXPECT_TRUE(devices.insert(p.device).second) << what << ": " << p.device << " holds two stages";
    if (!allowed.empty()) {
      EXPECT_TRUE(allowed.count(p.device)) << what << ": " << p.device;
    }
  }
  EXPECT_EQ(next, kLayers) << what;
  for (int l = 0; l < kLayers; ++l) EXPECT_EQ(owners[l], 1) << what << ": layer " << l;
}

void expectFiniteLosses(const Outcome& r, size_t iterations) {
  EXPECT_EQ(r.losses.size(), iterations) << "every iteration of the run trained";
  for (double l : r.losses) EXPECT_TRUE(std::isfinite(l)) << l;
  if (!r.losses.empty()) {
    EXPECT_LT(r.losses.back(), r.losses.front());
  }
}

// ---------------------------------------------------------------------------------------------
// 1. A kill during migration leaves a consistent plan.

TEST(FtpipehdFaults, AKillWhileLayersMoveAbortsTheMigrationAndRecovers) {
  // dev0 becomes 16x slower at iteration 1; the measurement at iteration 4 (3 of its 4
  // iterations slowed, so that the noise of a loaded machine cannot hide it) re-plans to move
  // layers off it. dev1 (the middle stage) is killed the moment the `replanned` event is
  // written: the migration's prepare is then waiting for it.
  constexpr int kIterations = 16;
  ExperimentConfig c = baseRun("ftpipehd-kill-migrating", 3, kIterations);
  c.algorithm.params.set("replanEvery", int64_t{4});
  // The re-plan can only move pool1 off dev0 (conv1 stays on it): a predicted gain of only
  // 1.17-1.43x measured on a quiet machine, and under a full suite at -j2 once below 1.1 at
  // every measurement. Any gain will do here: what is tested is the kill during the migration.
  c.algorithm.params.set("replanGain", 1.01);
  FaultConfig slow;
  slow.device = 0;
  slow.kind = "slowdown";
  slow.slowdown = 16;
  slow.at_iteration = 1;
  c.faults.push_back(slow);
  bool killed = false;
  const Outcome r = runIt(c, "kill-migrating", [&](const RunEvent& e, Controller& ctl) {
    if (e.kind == events::kReplanned && !killed) {
      killed = true;
      ctl.killLocalDevice(1);
    }
  });
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  ASSERT_TRUE(killed) << "no re-plan after dev0 became 16x slower";
  expectFiniteLosses(r, kIterations);

  const auto replanned = eventsOf(r, events::kReplanned);
  const auto aborted = eventsOf(r, events::kMigrationAborted);
  const auto recovered = eventsOf(r, events::kRecovered);
  ASSERT_FALSE(replanned.empty());
  const std::string at = replanned.front().field(f::kIteration);
  EXPECT_EQ(at, "4") << replanned.front().detail;
  // The migration that was under way when dev1 died was aborted (the old plan stayed) at that
  // iteration, and then recovered from: dev1's layers (the even plan's middle stage, conv2 and
  // pool2) from dev2's neighbour replica, taken after 3 mini-batches: 1 retrained.
  ASSERT_EQ(aborted.size(), 1u);
  EXPECT_EQ(aborted.front().field(f::kIteration), at) << aborted.front().detail;
  ASSERT_EQ(recovered.size(), 1u);
  const RunEvent& rec = recovered.front();
  EXPECT_EQ(rec.field(f::kDevices), "dev0 dev2") << rec.detail;
  EXPECT_EQ(rec.field(f::kIterationsRetrained), "1") << rec.detail;
  EXPECT_EQ(rec.field(f::kSources), "conv2:neighbour pool2:neighbour") << rec.detail;
  EXPECT_GE(rec.time_s, aborted.front().time_s);
  // No migration committed before the recovery: the plan before it is the starting one.
  for (const auto& m : eventsOf(r, events::kMigrated)) {
    EXPECT_GT(m.time_s, rec.time_s) << "a migration committed with dev1 dead: " << m.detail;
  }

  // Every plan ever in force gives each layer to exactly one device; from the recovery on, only
  // to the survivors.
  const auto plans = plansOf(r);
  ASSERT_GE(plans.size(), 2u);
  for (size_t i = 0; i < plans.size(); ++i) {
    const bool after = plans[i].front().time_s >= rec.time_s - 1e-3;
    expectConsistent(plans[i],
                     after ? std::set<std::string>{"dev0", "dev2"} : std::set<std::string>{},
                     "plan " + std::to_string(i));
  }
  EXPECT_EQ(plans.back().size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// 2. A device that comes back rejoins through a re-plan.

// The plan in force at the end, and the rejoin's events, for a run where dev1 comes back.
void expectRejoined(const Outcome& r, const std::string& restarted_at, int iterations) {
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  expectFiniteLosses(r, static_cast<size_t>(iterations));
  const auto recovered = eventsOf(r, events::kRecovered);
  ASSERT_EQ(recovered.size(), 1u);
  EXPECT_EQ(recovered.front().field(f::kDevices), "dev0 dev2") << recovered.front().detail;
  const auto restarted = eventsOf(r, events::kDeviceRestarted);
  ASSERT_EQ(restarted.size(), 1u);
  EXPECT_EQ(restarted.front().device, "dev1");
  // The re-plan that takes dev1 back, at the boundary of its restart, after the recovery.
  std::vector<RunEvent> rejoin_plans;
  for (const auto& e : eventsOf(r, events::kReplanned)) {
    if (e.field(f::kReason) == "rejoined") rejoin_plans.push_back(e);
  }
  ASSERT_EQ(rejoin_plans.size(), 1u) << "no re-plan took dev1 back";
  const RunEvent& replan = rejoin_plans.front();
  EXPECT_EQ(replan.device, "dev1");
  EXPECT_EQ(replan.field(f::kIteration), restarted_at) << replan.detail;
  EXPECT_GT(replan.time_s, recovered.front().time_s);
  EXPECT_EQ(eventsOf(r, events::kDeviceRejoined).size(), 1u);
  // The plan after it runs on all three devices again, dev1 holding layers; every plan ever in
  // force is consistent.
  const auto plans = plansOf(r);
  for (size_t i = 0; i < plans.size(); ++i)
    expectConsistent(plans[i], {}, "plan " + std::to_string(i));
  ASSERT_FALSE(plans.empty());
  const auto& last = plans.back();
  ASSERT_EQ(last.size(), 3u) << "the last plan is not over the three devices";
  EXPECT_EQ(last[1].device, "dev1");
  EXPECT_GE(last[1].last_layer - last[1].first_layer, 1);
  EXPECT_EQ(last.front().iteration, std::stoll(restarted_at));
  // dev1 trained from then on: its stage reported compute time after the rejoin.
  double dev1_after = 0;
  for (const auto& m : r.data.metrics) {
    if (m.device == "dev1" && m.metric == "step_compute_s" &&
        m.iteration > std::stoll(restarted_at))
      dev1_after += m.value;
  }
  EXPECT_GT(dev1_after, 0.0) << "dev1 holds layers but never computed after its rejoin";
}

TEST(FtpipehdFaults, AKilledDeviceThatIsStartedAgainRejoinsThroughAReplan) {
  constexpr int kIterations = 14;
  ExperimentConfig c = baseRun("ftpipehd-rejoin", 3, kIterations);
  FaultConfig crash;
  crash.device = 1;
  crash.kind = "crash";
  crash.at_iteration = 5;
  c.faults.push_back(crash);
  FaultConfig restart;
  restart.device = 1;
  restart.kind = "restart";
  restart.at_iteration = 9;
  c.faults.push_back(restart);
  const Outcome r = runIt(c, "rejoin");
  expectRejoined(r, "9", kIterations);
}

TEST(FtpipehdFaults, AStageRebootedInPlaceIsRecoveredAndTakenBack) {
  // A restart of a living stage: what it trained is gone with the process, so its layers come
  // back from the replicas first, and then it rejoins through a re-plan.
  constexpr int kIterations = 12;
  ExperimentConfig c = baseRun("ftpipehd-reboot", 3, kIterations);
  FaultConfig restart;
  restart.device = 1;
  restart.kind = "restart";
  restart.at_iteration = 7;
  c.faults.push_back(restart);
  const Outcome r = runIt(c, "reboot");
  expectRejoined(r, "7", kIterations);
  const auto recovered = eventsOf(r, events::kRecovered);
  if (!recovered.empty()) {
    // Lost after 7 mini-batches, with replicas after 3 and 6: 1 retrained.
    EXPECT_EQ(recovered.front().field(f::kIterationsRetrained), "1") << recovered.front().detail;
    EXPECT_EQ(recovered.front().field(f::kSources), "conv2:neighbour pool2:neighbour");
  }
}

// ---------------------------------------------------------------------------------------------
// 3. A slow-but-alive device: the backward deadline catches it before the heartbeat timeout.

TEST(FtpipehdFaults, AFrozenStageIsCaughtByTheDeadlineBeforeTheHeartbeatTimeout) {
  // dev2 freezes for 6 s at iteration 8: the heartbeat would give up on it after the loss
  // timeout (3.5 s); the 800 ms backward deadline must catch it well before.
  constexpr int kIterations = 14;
  ExperimentConfig c = baseRun("ftpipehd-deadline", 4, kIterations);
  c.algorithm.params.set("deadlineMs", int64_t{800});
  FaultConfig freeze;
  freeze.device = 2;
  freeze.kind = "freeze";
  freeze.freeze_s = 6;
  freeze.at_iteration = 8;
  c.faults.push_back(freeze);
  const Outcome r = runIt(c, "deadline");
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  expectFiniteLosses(r, kIterations);
  // From the run folder's clock: the freeze was applied at t0; the recovery finished at t1 and
  // took `seconds`, so the failure was seen at t1 - seconds.
  const RunEvent* frozen = nullptr;
  for (const auto& e : r.data.events) {
    if (e.kind == events::kFaultApplied && e.field(f::kFault) == "freeze") frozen = &e;
  }
  ASSERT_NE(frozen, nullptr);
  const auto recovered = eventsOf(r, events::kRecovered);
  ASSERT_FALSE(recovered.empty());
  const RunEvent& rec = recovered.front();
  EXPECT_EQ(rec.field(f::kDevices), "dev0 dev1 dev3") << rec.detail;
  const double seen_at = rec.time_s - std::stod(rec.field(f::kSeconds));
  const double detection = seen_at - frozen->time_s;
  const double loss_timeout =
      std::chrono::duration<double>(ControllerOptions{}.loss_timeout).count();
  std::printf(
      "[ measured ] freeze at %.3f s, seen at %.3f s: detection %.3f s (loss timeout %.1f s)\n",
      frozen->time_s, seen_at, detection, loss_timeout);
  EXPECT_GE(detection, 0.8) << "caught before the deadline passed?";
  EXPECT_LT(detection, loss_timeout) << "not caught before the heartbeat timeout: " << rec.detail;
  // The heartbeat had not given up on dev2 when the deadline caught it.
  for (const auto& e : eventsOf(r, events::kDeviceLost)) {
    EXPECT_GT(e.time_s, seen_at) << e.detail;
  }
}

// ---------------------------------------------------------------------------------------------
// 4. The iterations retrained, exact for a failure right after a replication.

TEST(FtpipehdFaults, AFailureRightAfterAReplicationRetrainsNothingAndKeepsTheModel) {
  // Momentum 0 (a restored layer restarts its momentum), R_n = 3: the neighbour replicas are
  // taken after 3, 6 and 9 mini-batches. dev0 freezes at iteration 9 (so iteration 9 cannot
  // finish) and dev2 is killed 0.7 s later: its replica of after 9 mini-batches is with dev3, so
  // nothing is retrained, and the losses are exactly those of the run without a failure.
  constexpr int kIterations = 14;
  ExperimentConfig c = baseRun("ftpipehd-tag", 4, kIterations);
  c.momentum = 0;
  c.algorithm.params.set("replicateGlobalEvery", int64_t{0});
  const Outcome plain = runIt(c, "tag-plain");
  FaultConfig freeze;
  freeze.device = 0;
  freeze.kind = "freeze";
  freeze.freeze_s = 2;
  freeze.at_iteration = 9;
  c.faults.push_back(freeze);
  std::thread killer;
  const Outcome r = runIt(c, "tag-killed", [&](const RunEvent& e, Controller& ctl) {
    if (e.kind == events::kFaultApplied && e.field(f::kFault) == "freeze" && !killer.joinable()) {
      killer = std::thread([&ctl] {
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        ctl.killLocalDevice(2);
      });
    }
  });
  if (killer.joinable()) killer.join();
  ASSERT_TRUE(plain.summary.ok) << plain.summary.error;
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const auto recovered = eventsOf(r, events::kRecovered);
  ASSERT_EQ(recovered.size(), 1u);
  const RunEvent& rec = recovered.front();
  EXPECT_EQ(rec.field(f::kDevices), "dev0 dev1 dev3") << rec.detail;
  EXPECT_EQ(rec.field(f::kSources), "fc1:neighbour") << rec.detail;
  EXPECT_EQ(rec.field(f::kIterationsRetrained), "0") << rec.detail;
  ASSERT_EQ(r.losses.size(), plain.losses.size());
  for (size_t i = 0; i < plain.losses.size(); ++i) {
    EXPECT_NEAR(r.losses[i], plain.losses[i], 1e-6 * std::max(1.0, std::abs(plain.losses[i])))
        << "iteration " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// 5. The backward deadline is for training steps: an evaluation that takes longer is waited for.

TEST(FtpipehdFaults, AnEvaluationSlowerThanTheBackwardDeadlineIsWaitedFor) {
  // An iteration of 8 images takes a few milliseconds a stage; an evaluation batch of 500 (1,000
  // test images) takes far longer than the 150 ms deadline. Before the fix the evaluation's wait
  // used the deadline and failed the run ("timed out after 0 s waiting for evaluation"), which a
  // full suite at -j4 once hit with the 800 ms deadline of the test above.
  constexpr int kIterations = 4;
  ExperimentConfig c = baseRun("ftpipehd-slow-eval", 3, kIterations);
  c.batch_size = 8;  // one micro-batch of 8: an iteration is far inside the deadline
  c.algorithm.params.set("microBatches", int64_t{1});
  c.test_limit = 1000;
  c.algorithm.params.set("deadlineMs", int64_t{150});
  const Outcome r = runIt(c, "slow-eval");
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const auto evaluations = eventsOf(r, events::kEvaluation);
  ASSERT_FALSE(evaluations.empty());
  EXPECT_NE(evaluations.back().detail.find("on 1000 samples"), std::string::npos)
      << evaluations.back().detail;
  EXPECT_GT(r.summary.test_accuracy, 0.0) << "the final evaluation scored the test set";
}

}  // namespace
}  // namespace edgerig
