// ftpipehd on real agent processes: a device that becomes slow mid-run is measured from its
// stage's compute times, the plan moves layers off it (a replanned event with its reasons, a
// migrated event with its time, the new plan in partitions.csv), and the migration keeps the
// model: the losses equal those of the same run without re-planning, at momentum 0 and at 0.9
// (the momentum of the moved layers travels with them). Stages replicate their weights (traffic
// kind replica) and a killed stage is recovered: the run finishes, each lost layer restored from
// the right source, at most R_n iterations retrained.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/controller/controller.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

constexpr int kIterations = 16;
constexpr int kReplanEvery = 4;

// cnn (6 layers) on 2 devices, starting from the even plan [conv1 pool1 conv2 | pool2 fc1 fc2].
// conv2 is most of the first stage's work, so when dev0 slows down, moving it pays clearly
// (lenet5's layers are so small that their profiled times are mostly noise).
ExperimentConfig ftpipehdRun(double momentum, bool replan) {
  ExperimentConfig c;
  c.name = "ftpipehd";
  c.seed = 5;
  c.local_count = 2;
  c.model = "cnn";
  c.dataset = "fashion-mnist";
  c.train_limit = 2048;
  c.test_limit = 200;
  c.batch_size = 32;
  c.learning_rate = 0.05;
  c.momentum = momentum;
  c.max_iterations = kIterations;
  c.eval_every = 0;
  c.algorithm.name = "ftpipehd";
  c.algorithm.params.set("microBatches", int64_t{4});
  c.algorithm.params.set("plan", std::string("even"));
  c.algorithm.params.set("replanEvery", int64_t{replan ? kReplanEvery : 0});
  c.algorithm.params.set("replanGain", 1.1);
  if (replan) {
    // dev0 becomes 8x slower: the next measurement moves layers to dev1.
    FaultConfig slow;
    slow.device = 0;
    slow.kind = "slowdown";
    slow.slowdown = 8;
    slow.at_iteration = 2;
    c.faults.push_back(slow);
  }
  return c;
}

struct RunResult {
  RunSummary summary;
  RunData data;
  std::vector<double> losses;
};

RunResult runIt(const ExperimentConfig& c, const std::string& name) {
  RunResult r;
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir(name);
  Controller controller(c, opts);
  r.summary = controller.run();
  auto data = readRun(opts.run_dir);
  EXPECT_TRUE(data.isOk()) << data.status().message();
  if (data) r.data = std::move(data).value();
  for (const auto& m : r.data.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) r.losses.push_back(m.value);
  }
  return r;
}

std::vector<RunEvent> eventsOf(const RunResult& r, std::string_view kind) {
  std::vector<RunEvent> out;
  for (const auto& e : r.data.events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

// Runs the same training with and without re-planning and compares the losses step by step.
// Returns the largest relative difference.
double migratedAgainstUnmigrated(double momentum, const std::string& name) {
  const RunResult fixed = runIt(ftpipehdRun(momentum, false), name + "-fixed");
  const RunResult moving = runIt(ftpipehdRun(momentum, true), name + "-moving");
  EXPECT_TRUE(fixed.summary.ok) << fixed.summary.error;
  EXPECT_TRUE(moving.summary.ok) << moving.summary.error;
  EXPECT_TRUE(eventsOf(fixed, events::kMigrated).empty());

  // The slow device was measured and the plan moved, at a measurement boundary.
  const auto replanned = eventsOf(moving, events::kReplanned);
  const auto migrated = eventsOf(moving, events::kMigrated);
  EXPECT_FALSE(replanned.empty()) << "no re-plan after dev0 became 8x slower";
  EXPECT_EQ(migrated.size(), replanned.size()) << "every decided re-plan migrates";
  for (const auto& e : replanned) {
    EXPECT_EQ(e.field(events::fields::kReason), "capacities");
    EXPECT_GE(std::stod(e.field(events::fields::kGain)), 1.1) << e.detail;
    EXPECT_EQ(std::stoll(e.field(events::fields::kIteration)) % kReplanEvery, 0) << e.detail;
    EXPECT_FALSE(e.field(events::fields::kCapacities).empty());
  }
  for (const auto& e : migrated) {
    const double took = std::stod(e.field(events::fields::kSeconds));
    EXPECT_GT(took, 0.0);
    EXPECT_LT(took, 10.0) << "a few hundred kilobytes of layers should move in well under 10 s";
  }
  if (!migrated.empty()) {
    // partitions.csv: after the first migration dev0 holds fewer layers than the even plan's 3.
    const int64_t at = std::stoll(migrated.front().field(events::fields::kIteration));
    int dev0_layers = -1;
    for (const auto& p : moving.data.partitions) {
      if (p.device == "dev0" && p.iteration >= at && dev0_layers < 0) {
        dev0_layers = p.last_layer - p.first_layer;
      }
    }
    EXPECT_GE(dev0_layers, 1);
    EXPECT_LT(dev0_layers, 3) << "the slow device should hold fewer layers after the migration";
  }

  EXPECT_EQ(fixed.losses.size(), static_cast<size_t>(kIterations));
  EXPECT_EQ(moving.losses.size(), fixed.losses.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(fixed.losses.size(), moving.losses.size()); ++i) {
    worst = std::max(worst, std::abs(moving.losses[i] - fixed.losses[i]) /
                                std::max(1.0, std::abs(fixed.losses[i])));
  }
  if (!fixed.losses.empty()) {
    EXPECT_LT(fixed.losses.back(), fixed.losses.front());
  }
  std::printf("[ measured ] momentum %.1f: %zu migrations, worst relative loss difference %.3g\n",
              momentum, migrated.size(), worst);
  return worst;
}

TEST(Ftpipehd, MigrationKeepsTheModelAtMomentumZero) {
  // Each layer computes the same operations on the same inputs wherever it runs, so the only
  // way to differ is to lose or corrupt weights on the way.
  EXPECT_LT(migratedAgainstUnmigrated(0.0, "m0"), 1e-6);
}

TEST(Ftpipehd, MigrationCarriesMomentum) {
  // A moved layer that restarted its momentum would take a different step right after the
  // migration and the losses would part from the unmigrated run's.
  EXPECT_LT(migratedAgainstUnmigrated(0.9, "m09"), 1e-6);
}

// The first measurement comes 5 iterations in, not after replanEvery (docs/design.md ftpipehd 2):
// dev0, 8x slower from iteration 2 than its profile said, is re-planned around at 5 though
// P = 20, and not again within the 12 iterations. (Any gain re-plans here: the cnn's layers on two
// devices leave a predicted gain of only ~1.13, which the default 1.1 missed once under a load of
// three system tests on two cores; P = 20 leaves no second measurement to re-plan at.)
TEST(Ftpipehd, TheFirstMeasurementComesFiveIterationsIn) {
  ExperimentConfig c = ftpipehdRun(0.9, true);
  c.algorithm.params.set("replanEvery", int64_t{20});
  c.algorithm.params.set("replanGain", 1.01);
  c.max_iterations = 12;
  const RunResult r = runIt(c, "early");
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const auto replanned = eventsOf(r, events::kReplanned);
  ASSERT_EQ(replanned.size(), 1u);
  EXPECT_EQ(replanned.front().field(events::fields::kIteration), "5") << replanned.front().detail;
  std::printf("[ measured ] %s\n", replanned.front().detail.c_str());
}

// cnn on 4 devices, even plan [conv1 pool1 | conv2 pool2 | fc1 | fc2], neighbour replicas every
// 3 iterations, global every 6; `kill` devices crash at the boundary before iteration `at`.
ExperimentConfig recoveryRun(const std::vector<int>& kill, int at = 8) {
  ExperimentConfig c;
  c.name = "ftpipehd-recovery";
  c.seed = 9;
  c.local_count = 4;
  c.model = "cnn";
  c.dataset = "fashion-mnist";
  c.train_limit = 2048;
  c.test_limit = 200;
  c.batch_size = 32;
  c.learning_rate = 0.05;
  c.momentum = 0.9;
  c.max_iterations = 20;
  c.eval_every = 0;
  c.algorithm.name = "ftpipehd";
  c.algorithm.params.set("microBatches", int64_t{4});
  c.algorithm.params.set("plan", std::string("even"));
  c.algorithm.params.set("replanEvery", int64_t{0});
  c.algorithm.params.set("replicateNeighbourEvery", int64_t{3});
  c.algorithm.params.set("replicateGlobalEvery", int64_t{6});
  for (int d : kill) {
    FaultConfig crash;
    crash.device = d;
    crash.kind = "crash";
    crash.at_iteration = at;
    c.faults.push_back(crash);
  }
  return c;
}

double lastMetric(const RunResult& r, const std::string& device, const std::string& metric) {
  double v = 0;
  for (const auto& m : r.data.metrics) {
    if (m.device == device && m.metric == metric) v = m.value;
  }
  return v;
}

// The recovered event of a run with the layers' sources; checks what every recovery must show.
RunEvent recoveredEvent(const RunResult& r, const std::string& survivors, int at = 8) {
  EXPECT_TRUE(r.summary.ok) << r.summary.error;
  EXPECT_EQ(r.losses.size(), 20u) << "every iteration of the run trained";
  const auto recovered = eventsOf(r, events::kRecovered);
  EXPECT_EQ(recovered.size(), 1u);
  if (recovered.empty()) return {};
  const RunEvent& e = recovered.front();
  EXPECT_EQ(e.field(events::fields::kDevices), survivors) << e.detail;
  // The failure comes after `at` mini-batches; the newest replica of every lost layer was taken
  // at the last multiple of R_n = 3 (after 6 for a failure at 8, so mini-batches 6 and 7 run
  // again): at most R_n.
  const int retrained = std::stoi(e.field(events::fields::kIterationsRetrained));
  EXPECT_EQ(retrained, at - at / 3 * 3) << e.detail;
  EXPECT_LT(std::stod(e.field(events::fields::kSeconds)), 10.0) << e.detail;
  // The last plan in partitions.csv runs on the survivors only, one stage each.
  // (Each row has its own time, so a plan is told by its stage 0 row, not by one time.)
  std::string devices;
  for (const auto& p : r.data.partitions) {
    if (p.stage == 0) devices.clear();
    devices += (devices.empty() ? "" : " ") + p.device;
  }
  EXPECT_EQ(devices, survivors);
  if (!r.losses.empty()) {
    EXPECT_LT(r.losses.back(), r.losses.front());
  }
  // Its phases, each an event when it ended, in order and before it: detection first, then the
  // attempts (one cut short by a second loss leaves its phases too), the last of them complete.
  // The last attempt's three add up to the recovery's time (each is measured from the end of the
  // one before, on one clock), detection is its detection_s, and the events come in order.
  std::vector<const RunEvent*> phases;
  for (const auto& ev : r.data.events) {
    if (ev.kind == events::kRecoveryPhase) phases.push_back(&ev);
    if (ev.kind == events::kRecovered) break;
  }
  std::string order;
  for (const RunEvent* p : phases) {
    order += (order.empty() ? "" : " ") + p->field(events::fields::kPhase);
  }
  EXPECT_EQ(order.rfind("detect re-plan", 0), 0u) << order;
  EXPECT_EQ(order.size() - order.rfind(" re-plan fetch commit"), 21u) << order;
  if (phases.size() >= 4) {
    const size_t n = phases.size();
    const auto took = [&](size_t i) {
      return std::stod(phases[i]->field(events::fields::kSeconds));
    };
    EXPECT_EQ(phases[0]->field(events::fields::kSeconds),
              e.field(events::fields::kDetectionSeconds));
    // The recovery's seconds count every attempt; one attempt's phases are all of it.
    const double attempt = took(n - 3) + took(n - 2) + took(n - 1);
    const double recovery = std::stod(e.field(events::fields::kSeconds));
    if (n == 4) {
      EXPECT_NEAR(attempt, recovery, 0.005) << order;
    } else {
      EXPECT_LE(attempt, recovery + 0.005) << order;
    }
    for (size_t i = 1; i < n; ++i) EXPECT_LE(phases[i - 1]->time_s, phases[i]->time_s);
    EXPECT_LE(phases[n - 1]->time_s, e.time_s);
  }
  std::printf("[ measured ] recovered: %s | detection %s s, recovery %s s\n", e.detail.c_str(),
              e.field(events::fields::kDetectionSeconds).c_str(),
              e.field(events::fields::kSeconds).c_str());
  return e;
}

// Every stage rolls back to the replica's mini-batch, momentum included, so the replay is
// exact: iteration i ran mini-batch i before the recovery and i - retrained after it, and its
// loss is the unfailed run's for that mini-batch.
void expectExactReplay(const RunResult& r, const RunEvent& e) {
  static const RunResult unfailed = runIt(recoveryRun({}), "unfailed");
  ASSERT_TRUE(unfailed.summary.ok) << unfailed.summary.error;
  ASSERT_EQ(unfailed.losses.size(), 20u);
  const int64_t at = std::stoll(e.field(events::fields::kIteration));
  const int64_t retrained = std::stoll(e.field(events::fields::kIterationsRetrained));
  for (int64_t i = 0; i < static_cast<int64_t>(r.losses.size()); ++i) {
    const int64_t batch = i < at ? i : i - retrained;
    const double want = unfailed.losses[static_cast<size_t>(batch)];
    EXPECT_NEAR(r.losses[static_cast<size_t>(i)], want, 1e-5 * std::max(1.0, want))
        << "iteration " << i << " (mini-batch " << batch << "): " << e.detail;
  }
}

TEST(Ftpipehd, AKilledMiddleStageIsRestoredFromItsNeighbourReplica) {
  const RunResult r = runIt(recoveryRun({2}), "kill-middle");
  const RunEvent e = recoveredEvent(r, "dev0 dev1 dev3");
  // Mini-batch 6 is a global boundary too: the controller held the whole model of then.
  EXPECT_NE(e.detail.find("every stage from its weights of mini-batch 6"), std::string::npos)
      << e.detail;
  expectExactReplay(r, e);
  // What the views are told of the replicas (the partition strip names each one's age): none on
  // the stages and the starting model on the controller at the start, neighbour replicas at the
  // boundaries of iterations 3 and 6, a global one at 6, none on the stages after the recovery's
  // restart; and the recovery replayed from the newest one reported.
  std::vector<double> neighbour, global;
  for (const auto& m : r.data.metrics) {
    if (m.metric == "neighbour_replica_iteration") neighbour.push_back(m.value);
    if (m.metric == "global_replica_iteration") global.push_back(m.value);
  }
  ASSERT_GE(neighbour.size(), 4u);
  EXPECT_EQ(std::vector<double>(neighbour.begin(), neighbour.begin() + 4),
            (std::vector<double>{-1, 3, 6, -1}));
  ASSERT_GE(global.size(), 2u);
  EXPECT_EQ(std::vector<double>(global.begin(), global.begin() + 2), (std::vector<double>{0, 6}));
  EXPECT_EQ(std::stoi(e.field(events::fields::kIterationsRetrained)), 8 - 6);
  // dev2 ran fc1; dev3 (the next stage) holds its neighbour replica; the others are owners.
  EXPECT_EQ(e.field(events::fields::kSources), "fc1:neighbour") << e.detail;
  // Replicas travelled as their own traffic kind, counted by the agents themselves.
  EXPECT_GT(lastMetric(r, "dev1", "bytes_sent_replica"), 0.0);
  EXPECT_GT(lastMetric(r, "dev3", "bytes_sent_replica"), 0.0);
}

// Killed after 10 mini-batches: the neighbour replica is of 9, the controller's global one of 6,
// so the survivors roll back to the weights and momentum they kept when they replicated after 9.
TEST(Ftpipehd, TheSurvivorsRollBackToTheirOwnWeightsOfTheNeighbourReplica) {
  const RunResult r = runIt(recoveryRun({2}, 10), "kill-middle-10");
  const RunEvent e = recoveredEvent(r, "dev0 dev1 dev3", 10);
  EXPECT_EQ(e.field(events::fields::kSources), "fc1:neighbour") << e.detail;
  EXPECT_NE(e.detail.find("every stage from its weights of mini-batch 9"), std::string::npos)
      << e.detail;
  expectExactReplay(r, e);
}

TEST(Ftpipehd, TwoNeighboursKilledAtOnceComeBackFromTheControllersReplica) {
  const RunResult r = runIt(recoveryRun({1, 2}), "kill-two");
  const RunEvent e = recoveredEvent(r, "dev0 dev3");
  // dev1's successor dev2 is lost too: its layers come from the global replica; dev2's from
  // dev3's neighbour replica.
  EXPECT_EQ(e.field(events::fields::kSources),
            "conv2:controller (global) pool2:controller (global) fc1:neighbour")
      << e.detail;
  expectExactReplay(r, e);
}

TEST(Ftpipehd, AFrozenStageIsCaughtByTheBackwardDeadlineBeforeTheHeartbeatTimeout) {
  // dev2 freezes for 2.5 s, less than the 3.5 s of heartbeat silence that makes a device lost:
  // only the 800 ms backward deadline can catch it.
  ExperimentConfig c = recoveryRun({});
  c.algorithm.params.set("deadlineMs", int64_t{800});
  FaultConfig freeze;
  freeze.device = 2;
  freeze.kind = "freeze";
  freeze.freeze_s = 2.5;
  freeze.at_iteration = 8;
  c.faults.push_back(freeze);
  const RunResult r = runIt(c, "freeze");
  const RunEvent e = recoveredEvent(r, "dev0 dev1 dev3");
  EXPECT_EQ(e.field(events::fields::kSources), "fc1:neighbour") << e.detail;
  const double detection = std::stod(e.field(events::fields::kDetectionSeconds));
  EXPECT_GE(detection, 0.75) << "not before the deadline";
  EXPECT_LT(detection, 2.0) << "well before the heartbeat timeout";
  EXPECT_TRUE(eventsOf(r, events::kDeviceLost).empty()) << "the heartbeat never gave up on dev2";
}

}  // namespace
}  // namespace edgerig
