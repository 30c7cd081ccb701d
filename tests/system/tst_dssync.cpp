// dssync on real agent processes, judged from the run folder. With g >= n it is allreduce, loss
// for loss (one group of everyone: the average of the locally stepped models equals the step of
// the averaged gradient), and its models, 0 apart, average to one that scores what each does.
// Its groups follow the bottleneck the probe measures: an emulated cap on
// one device's links, declared from the start, or applied mid-run (the re-probe regroups); no
// ordinary round's group crosses it and the bridge rounds do, every bridgeEvery rounds. A device
// lost mid-run leaves a run that finishes on the survivors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/algorithms/decentralized/dssync/dssync_coordinator.h"
#include "core/runlog/event_kinds.h"
#include "tests/support/agent_runs.h"

namespace edgerig {
namespace {

using testsupport::AgentRun;
using testsupport::countEvents;
using testsupport::runLevel;

ExperimentConfig dssyncRun(const std::string& algorithm, int devices, int iterations) {
  ExperimentConfig c = testsupport::smallRun(
      algorithm, devices, iterations,
      {.seed = 13, .train = 4000, .test = 400, .batch = 32, .eval_every = 0, .eval_samples = 200});
  c.weight_decay = 5e-4;
  c.algorithm.params.set("bucketMiB", 0.05);  // several buckets, overlapping on the links
  if (algorithm == "dssync") {
    c.algorithm.params.set("groupSize", int64_t{2});
    c.algorithm.params.set("bridgeEvery", int64_t{3});
  }
  return c;
}

// graph.csv's rounds: round → its edges' (from, to) device names, and whether it was a bridge.
struct LoggedRound {
  std::string kind;
  std::vector<std::pair<std::string, std::string>> edges;
};
std::map<int64_t, LoggedRound> rounds(const RunData& run) {
  std::map<int64_t, LoggedRound> out;
  for (const auto& e : run.graph) {
    out[e.round].kind = e.graph;
    out[e.round].edges.emplace_back(e.from, e.to);
  }
  return out;
}

std::vector<const RunEvent*> groupEvents(const RunData& run) {
  std::vector<const RunEvent*> out;
  for (const auto& e : run.events) {
    if (e.kind == kGroupsChanged) out.push_back(&e);
  }
  return out;
}

// From `from` on: no ordinary round has an edge between `isolated` and another device, every
// bridge round (at (round + 1) % every == 0) has one, and graph.csv logged some of each.
void expectGroupsFollow(const RunData& run, const std::string& isolated, int64_t from,
                        int64_t every) {
  int ordinary = 0, bridges = 0;
  for (const auto& [round, r] : rounds(run)) {
    if (round < from) continue;
    bool touches = false;
    for (const auto& [a, b] : r.edges) touches = touches || a == isolated || b == isolated;
    if (r.kind == "groups-bridge") {
      ++bridges;
      EXPECT_EQ((round + 1) % every, 0) << "round " << round;
      EXPECT_TRUE(touches) << "bridge round " << round << " leaves " << isolated << " alone";
    } else {
      ++ordinary;
      EXPECT_EQ(r.kind, "groups");
      EXPECT_FALSE(touches) << "round " << round << " crosses the bottleneck to " << isolated;
    }
  }
  EXPECT_GT(ordinary, 2);
  EXPECT_GT(bridges, 2);
}

TEST(Dssync, WithGAtLeastTheDeviceCountItIsAllreduce) {
  torch::set_num_threads(1);
  constexpr int kSteps = 15;
  const ExperimentConfig all = dssyncRun("allreduce", 4, kSteps);
  ExperimentConfig ds = dssyncRun("dssync", 4, kSteps);
  ds.algorithm.params.set("groupSize", int64_t{4});
  const AgentRun reference = testsupport::runAgents(all, "equal-allreduce");
  const AgentRun r = testsupport::runAgents(ds, "equal-dssync");
  ASSERT_TRUE(reference.summary.ok) << reference.summary.error;
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  ASSERT_EQ(reference.losses.size(), static_cast<size_t>(kSteps));
  ASSERT_EQ(r.losses.size(), static_cast<size_t>(kSteps));
  EXPECT_LT(reference.losses.back(), reference.losses.front());
  double worst = 0;
  for (int it = 0; it < kSteps; ++it) {
    worst = std::max(worst, std::abs(r.losses[it] - reference.losses[it]));
    EXPECT_NEAR(r.losses[it], reference.losses[it], 1e-5) << "iteration " << it;
  }
  std::printf("measured: dssync (g = n) vs allreduce, largest loss difference %.2e\n", worst);
  // One ring of all: every device holds the same model, so the models are 0 apart and their
  // average scores what each does (the final evaluation).
  const auto distance = runLevel(r.data, "consensus_distance");
  ASSERT_EQ(distance.size(), 1u);
  EXPECT_LT(distance.back(), 1e-6);
  const auto averaged = runLevel(r.data, "averaged_model_accuracy");
  ASSERT_EQ(averaged.size(), 1u);
  EXPECT_DOUBLE_EQ(averaged.back(), r.summary.test_accuracy);
  // One group of all four, logged once.
  const auto logged = rounds(r.data);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged.begin()->second.edges.size(), 4u);
}

TEST(Dssync, GroupsFollowAnEmulatedCapDeclaredFromTheStart) {
  torch::set_num_threads(1);
  constexpr int kSteps = 15;
  ExperimentConfig c = dssyncRun("dssync", 4, kSteps);
  c.algorithm.params.set("groupSize", int64_t{3});
  c.profiles.resize(4);
  c.profiles[3].bandwidth_mbps = 20;  // dev3's outgoing links
  const AgentRun r = testsupport::runAgents(c, "dssync-cap");
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const auto ev = groupEvents(r.data);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0]->field("sites"), "{0 1 2} {3}") << ev[0]->detail;
  const double threshold = std::stod(ev[0]->field("threshold_mbps"));
  EXPECT_GT(threshold, 15);
  EXPECT_LT(threshold, 25);
  expectGroupsFollow(r.data, "dev3", 0, 3);
}

TEST(Dssync, ACapAppliedMidRunIsMeasuredAndTheGroupsFollowIt) {
  torch::set_num_threads(1);
  constexpr int kSteps = 18;
  ExperimentConfig c = dssyncRun("dssync", 4, kSteps);
  c.algorithm.params.set("groupSize", int64_t{3});
  FaultConfig slow;
  slow.device = 2;
  slow.kind = "link";
  slow.bandwidth_mbps = 20;
  slow.at_iteration = 4;
  c.faults.push_back(slow);
  const AgentRun r = testsupport::runAgents(c, "dssync-fault");
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const auto ev = groupEvents(r.data);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]->field("sites"), "{0 1 2 3}") << "no bottleneck at the start";
  EXPECT_EQ(ev[1]->field("sites"), "{0 1 3} {2}") << ev[1]->detail;
  EXPECT_EQ(ev[1]->field("reason"), "links measured again");
  // Before the cap, dev2 is grouped with others; from the re-probe on, only in bridges.
  bool together_before = false;
  for (const auto& [round, lr] : rounds(r.data)) {
    if (round >= 4) continue;
    for (const auto& [a, b] : lr.edges) together_before = together_before || a == "dev2";
  }
  EXPECT_TRUE(together_before);
  expectGroupsFollow(r.data, "dev2", 4, 3);
  EXPECT_GE(countEvents(r.data, events::kLinksChanged), 1);
}

TEST(Dssync, ADeviceLostLeavesARunThatFinishes) {
  torch::set_num_threads(1);
  constexpr int kSteps = 30;
  ExperimentConfig c = dssyncRun("dssync", 4, kSteps);
  c.eval_every = 10;
  FaultConfig crash;
  crash.device = 1;
  crash.kind = "crash";
  crash.at_iteration = 8;
  c.faults.push_back(crash);
  ControllerOptions opts;
  opts.heartbeat_interval = std::chrono::milliseconds(200);
  opts.loss_timeout = std::chrono::milliseconds(1000);
  const AgentRun r = testsupport::runAgents(c, "dssync-kill", opts);
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  EXPECT_EQ(r.summary.iterations, kSteps);
  EXPECT_EQ(countEvents(r.data, events::kRecovered), 1);
  // The groups after the loss are of the survivors only, and they still change.
  int after = 0;
  for (const auto& [round, lr] : rounds(r.data)) {
    if (round <= 9) continue;
    ++after;
    for (const auto& [a, b] : lr.edges) {
      EXPECT_NE(a, "dev1") << "round " << round;
      EXPECT_NE(b, "dev1") << "round " << round;
    }
  }
  EXPECT_GT(after, 5);
  EXPECT_GT(r.summary.test_accuracy, 0.5) << "training went on";
  // Every evaluation, before and after the loss, also scored the devices' averaged model.
  const auto averaged = runLevel(r.data, "averaged_model_accuracy");
  EXPECT_EQ(averaged.size(), runLevel(r.data, "test_accuracy").size());
  EXPECT_GT(averaged.back(), 0.5);
}

}  // namespace
}  // namespace edgerig
