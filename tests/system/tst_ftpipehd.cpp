// ftpipehd on real agent processes: a device that becomes slow mid-run is measured from its
// stage's compute times, the plan moves layers off it (a replanned event with its reasons, a
// migrated event with its time, the new plan in partitions.csv), and the migration keeps the
// model: the losses equal those of the same run without re-planning, at momentum 0 and at 0.9
// (the momentum of the moved layers travels with them).
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

struct Run {
  RunSummary summary;
  RunData data;
  std::vector<double> losses;
};

Run runIt(const ExperimentConfig& c, const std::string& name) {
  Run r;
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

std::vector<RunEvent> eventsOf(const Run& r, std::string_view kind) {
  std::vector<RunEvent> out;
  for (const auto& e : r.data.events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

// Runs the same training with and without re-planning and compares the losses step by step.
// Returns the largest relative difference.
double migratedAgainstUnmigrated(double momentum, const std::string& name) {
  const Run fixed = runIt(ftpipehdRun(momentum, false), name + "-fixed");
  const Run moving = runIt(ftpipehdRun(momentum, true), name + "-moving");
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
  if (!fixed.losses.empty()) EXPECT_LT(fixed.losses.back(), fixed.losses.front());
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

}  // namespace
}  // namespace edgerig
