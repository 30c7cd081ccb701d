// The controls of a running experiment, on real agents. Switching the algorithm keeps the
// model: the losses after a switch to a different partition and micro-batch count are the
// losses training would have had without the switch, accuracy stays where it was, and a bad
// choice is refused without ending the run. Restarting a local device (a reboot) loses no
// training either. Pausing holds training without counting the pause as training time.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "core/controller/controller.h"
#include "core/partition/stage_plan.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

ExperimentConfig smallRun(int iterations, double momentum = 0) {
  ExperimentConfig c;
  c.name = "switch";
  c.seed = 11;
  c.local_count = 2;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 4096;
  c.batch_size = 64;
  c.algorithm.params.set("microBatches", int64_t{4});
  c.momentum = momentum;  // with momentum, the optimizer's state must travel with the weights
  c.learning_rate = 0.1;
  c.max_iterations = iterations;
  c.eval_every = 0;
  return c;
}

// Runs c, calling `at(iteration, controller)` after each completed iteration (on the
// controller's thread, before the next one starts); returns train_loss per iteration.
struct Outcome {
  RunSummary summary;
  std::map<int64_t, double> loss;
  RunData log;
};

template <typename At>
Outcome run(const ExperimentConfig& c, const std::string& name, At at) {
  Outcome out;
  std::mutex mu;
  Controller* self = nullptr;
  RunObserver o;
  o.on_metrics = [&](const std::vector<MetricSample>& ms) {
    std::lock_guard lock(mu);
    for (const auto& m : ms) {
      if (m.metric == "train_loss" && m.device.empty()) out.loss[m.iteration] = m.value;
    }
  };
  o.on_progress = [&](const RunProgress& p) { at(p, *self); };
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir(name);
  Controller controller(c, opts, o);
  self = &controller;
  out.summary = controller.run();
  auto log = readRun(opts.run_dir);
  EXPECT_TRUE(log.isOk()) << log.status().message();
  if (log) out.log = std::move(log).value();
  return out;
}

const RunEvent* findEvent(const RunData& d, const std::string& kind) {
  for (const auto& e : d.events) {
    if (e.kind == kind) return &e;
  }
  return nullptr;
}

class AlgorithmSwitchAt : public testing::TestWithParam<double> {};

TEST_P(AlgorithmSwitchAt, ContinuesTrainingExactlyFromTheGatheredWeights) {
  const int kIterations = 24, kSwitchAt = 12;
  const auto c = smallRun(kIterations, GetParam());
  const int even_cut = evenPlan(3, 2)->first(1);
  AlgorithmConfig next = c.algorithm;
  next.params.set("microBatches", int64_t{2});
  const int64_t other_cut = even_cut == 1 ? 2 : 1;  // the other partition of mlp's three layers
  next.params.set("cuts", IntList{other_cut});

  const std::string tag = GetParam() > 0 ? "-momentum" : "";
  auto plain = run(c, "switch-plain" + tag, [](const RunProgress&, Controller&) {});
  auto switched = run(c, "switch-switched" + tag, [&](const RunProgress& p, Controller& ctl) {
    if (p.iteration == kSwitchAt) ctl.switchAlgorithm(next);
  });
  ASSERT_TRUE(plain.summary.ok) << plain.summary.error;
  ASSERT_TRUE(switched.summary.ok) << switched.summary.error;
  ASSERT_EQ(plain.loss.size(), static_cast<size_t>(kIterations));
  ASSERT_EQ(switched.loss.size(), static_cast<size_t>(kIterations));

  const RunEvent* sw = findEvent(switched.log, "algorithm_switched");
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->iteration, kSwitchAt);
  EXPECT_NE(sw->detail.find("cuts [" + std::to_string(other_cut) + "]"), std::string::npos)
      << sw->detail;
  EXPECT_EQ(sw->field("to"), "gpipe");
  // The new plan is in the partition log, from the switch on.
  bool replanned = false;
  for (const auto& p : switched.log.partitions) {
    replanned |= p.iteration == kSwitchAt && p.stage == 1 && p.first_layer == other_cut;
  }
  EXPECT_TRUE(replanned);

  // Every loss after the switch is the loss the unswitched run had: the weights carried over
  // whole (seed weights would put the loss back near ln 10 = 2.30 at once), and at momentum 0.9
  // so did every momentum buffer (without them the next steps take a different path).
  for (int64_t it = 1; it <= kIterations; ++it) {
    const double a = plain.loss.at(it), b = switched.loss.at(it);
    EXPECT_NEAR(b, a, 1e-3 * std::max(1.0, std::abs(a))) << "iteration " << it;
  }
  EXPECT_LT(plain.loss.at(kIterations), plain.loss.at(1)) << "the run must actually train";
}

INSTANTIATE_TEST_SUITE_P(Momentum, AlgorithmSwitchAt, testing::Values(0.0, 0.9));

// The same for the decentralized algorithms whose replicas all hold one model: allreduce, and
// dssync with one group of every device (which is allreduce). Switched to itself with another
// bucket size, the run is the run without the switch, loss for loss, only if every device's
// momentum travels with the weights.
struct ReplicaSwitch {
  std::string algorithm;
  double momentum;
};

void PrintTo(const ReplicaSwitch& r, std::ostream* os) {
  *os << r.algorithm << " at momentum " << r.momentum;
}

class ReplicaSwitchAt : public testing::TestWithParam<ReplicaSwitch> {};

TEST_P(ReplicaSwitchAt, ContinuesWithTheGatheredWeightsAndMomentum) {
  const int kIterations = 20, kSwitchAt = 10;
  auto c = smallRun(kIterations, GetParam().momentum);
  c.name = GetParam().algorithm + "-switch";
  c.algorithm = AlgorithmConfig{};
  c.algorithm.name = GetParam().algorithm;
  if (c.algorithm.name == "dssync") c.algorithm.params.set("groupSize", int64_t{2});  // g = n
  c.batch_size = 32;                                                                  // per device
  AlgorithmConfig next = c.algorithm;
  next.params.set("bucketMiB", 0.015625);  // 16 KiB buckets: another ring schedule, same sums

  const std::string tag = c.name + (GetParam().momentum > 0 ? "-momentum" : "");
  auto plain = run(c, tag + "-plain", [](const RunProgress&, Controller&) {});
  auto switched = run(c, tag + "-switched", [&](const RunProgress& p, Controller& ctl) {
    if (p.iteration == kSwitchAt) ctl.switchAlgorithm(next);
  });
  ASSERT_TRUE(plain.summary.ok) << plain.summary.error;
  ASSERT_TRUE(switched.summary.ok) << switched.summary.error;
  ASSERT_EQ(plain.loss.size(), static_cast<size_t>(kIterations));
  ASSERT_EQ(switched.loss.size(), static_cast<size_t>(kIterations));
  const RunEvent* sw = findEvent(switched.log, "algorithm_switched");
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->iteration, kSwitchAt);
  EXPECT_EQ(sw->field("to"), c.algorithm.name);
  for (int64_t it = 1; it <= kIterations; ++it) {
    const double a = plain.loss.at(it), b = switched.loss.at(it);
    EXPECT_NEAR(b, a, 1e-4 * std::max(1.0, std::abs(a))) << "iteration " << it;
  }
  EXPECT_LT(plain.loss.at(kIterations), plain.loss.at(1)) << "the run must actually train";
}

INSTANTIATE_TEST_SUITE_P(Momentum, ReplicaSwitchAt,
                         testing::Values(ReplicaSwitch{"allreduce", 0.0},
                                         ReplicaSwitch{"allreduce", 0.9},
                                         ReplicaSwitch{"dssync", 0.9}),
                         [](const auto& info) {
                           return info.param.algorithm +
                                  (info.param.momentum > 0 ? "Momentum" : "Plain");
                         });

TEST(AlgorithmSwitch, AccuracyRightAfterASwitchIsTheTrainedModelsNotAResetOne) {
  ExperimentConfig c;
  c.name = "switch-accuracy";
  c.seed = 5;
  c.local_count = 2;
  c.model = "mlp";
  c.dataset = "fashion-mnist";
  c.train_limit = 8000;
  c.test_limit = 1000;
  c.batch_size = 64;
  c.algorithm.params.set("microBatches", int64_t{4});
  c.max_iterations = 64;
  c.eval_every = 0;  // the final evaluation only: 4 iterations after the switch
  c.eval_samples = 1000;
  AlgorithmConfig next = c.algorithm;
  next.params.set("plan", std::string("balanced"));
  next.params.set("microBatches", int64_t{2});

  auto finalAccuracy = [](const Outcome& r) {
    double a = -1;
    for (const auto& m : r.log.metrics) {
      if (m.metric == "test_accuracy") a = m.value;
    }
    return a;
  };
  auto r = run(c, "switch-accuracy", [&](const RunProgress& p, Controller& ctl) {
    if (p.iteration == 60) ctl.switchAlgorithm(next);
  });
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const RunEvent* sw = findEvent(r.log, "algorithm_switched");
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->iteration, 60);
  EXPECT_EQ(r.summary.algorithm, "gpipe");
  // What a model reset at the switch would show 4 iterations later: a fresh model of this seed
  // trained for 4 iterations, measured, not assumed.
  ExperimentConfig fresh = c;
  fresh.max_iterations = 4;
  auto reset = run(fresh, "switch-accuracy-reset", [](const RunProgress&, Controller&) {});
  ASSERT_TRUE(reset.summary.ok) << reset.summary.error;
  const double kept = finalAccuracy(r), restarted = finalAccuracy(reset);
  ASSERT_GE(kept, 0);
  ASSERT_GE(restarted, 0);
  EXPECT_GT(kept, 0.6) << "64 iterations of training, 4 of them after the switch";
  EXPECT_GT(kept, restarted + 0.15)
      << "after the switch " << kept << ", a reset model " << restarted;
}

TEST(AlgorithmSwitch, BadChoiceIsRefusedAndTheRunGoesOn) {
  const auto c = smallRun(10);
  AlgorithmConfig bad = c.algorithm;
  bad.params.set("cuts", IntList{1, 2});  // three stages on two devices
  auto r = run(c, "switch-bad", [&](const RunProgress& p, Controller& ctl) {
    if (p.iteration == 3) ctl.switchAlgorithm(bad);
  });
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  EXPECT_EQ(r.summary.iterations, 10);
  EXPECT_EQ(findEvent(r.log, "algorithm_switched"), nullptr);
  const RunEvent* refused = nullptr;
  for (const auto& e : r.log.events) {
    if (e.kind == "error" && e.detail.find("algorithm switch refused") != std::string::npos)
      refused = &e;
  }
  ASSERT_NE(refused, nullptr);
  EXPECT_NE(refused->detail.find("algorithm.cuts"), std::string::npos) << refused->detail;
}

class DeviceRestartAt : public testing::TestWithParam<double> {};

TEST_P(DeviceRestartAt, ARebootedLocalDeviceRejoinsAndTrainingLosesNothing) {
  const int kIterations = 16, kRestartAt = 6;
  const auto c = smallRun(kIterations, GetParam());
  const std::string tag = GetParam() > 0 ? "-momentum" : "";
  auto plain = run(c, "restart-plain" + tag, [](const RunProgress&, Controller&) {});
  auto restarted = run(c, "restart" + tag, [&](const RunProgress& p, Controller& ctl) {
    if (p.iteration == kRestartAt) {
      ctl.restartLocalDevice(1);
      ctl.restartLocalDevice(7);  // no such local agent: refused, the run goes on
    }
  });
  ASSERT_TRUE(plain.summary.ok) << plain.summary.error;
  ASSERT_TRUE(restarted.summary.ok) << restarted.summary.error;
  EXPECT_EQ(restarted.summary.iterations, kIterations);
  const RunEvent* back = findEvent(restarted.log, "device_restarted");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->device, "dev1");
  EXPECT_EQ(back->iteration, kRestartAt);
  // A new process listens on a new port: the device's address changed.
  const RunEvent* joined = nullptr;
  for (const auto& e : restarted.log.events) {
    if (e.kind == "device_joined" && e.device == "dev1") joined = &e;
  }
  ASSERT_NE(joined, nullptr);
  const std::string old_address = joined->detail.substr(joined->detail.rfind(' ') + 1);
  EXPECT_EQ(back->detail.find(old_address), std::string::npos) << back->detail;
  const RunEvent* refused = nullptr;
  for (const auto& e : restarted.log.events) {
    if (e.kind == "error" && e.detail.find("restart refused") != std::string::npos) refused = &e;
  }
  EXPECT_NE(refused, nullptr);
  for (int64_t it = 1; it <= kIterations; ++it) {
    const double a = plain.loss.at(it), b = restarted.loss.at(it);
    EXPECT_NEAR(b, a, 1e-3 * std::max(1.0, std::abs(a))) << "iteration " << it;
  }
}

INSTANTIATE_TEST_SUITE_P(Momentum, DeviceRestartAt, testing::Values(0.0, 0.9));

TEST(DeviceRestart, AScheduledRestartReplaysFromTheExperimentFile) {
  auto c = smallRun(8);
  FaultConfig reboot;
  reboot.kind = "restart";
  reboot.device = 0;
  reboot.at_iteration = 3;
  c.faults.push_back(reboot);
  auto r = run(c, "restart-scheduled", [](const RunProgress&, Controller&) {});
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const RunEvent* back = findEvent(r.log, "device_restarted");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->device, "dev0");
  EXPECT_EQ(back->iteration, 3);
  EXPECT_EQ(r.summary.iterations, 8);
}

TEST(RunPause, HoldsTrainingAndDoesNotCountThePause) {
  const auto c = smallRun(12);
  std::atomic<int64_t> paused_at{-1};
  std::thread resumer;
  auto r = run(c, "pause", [&](const RunProgress& p, Controller& ctl) {
    if (p.iteration == 4 && paused_at.load() < 0) {
      paused_at = p.iteration;
      ctl.pause();
      resumer = std::thread([&ctl] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        ctl.resume();
      });
    }
  });
  if (resumer.joinable()) resumer.join();
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  EXPECT_EQ(r.summary.iterations, 12);
  const RunEvent* paused = findEvent(r.log, "run_paused");
  const RunEvent* resumed = findEvent(r.log, "run_resumed");
  ASSERT_NE(paused, nullptr);
  ASSERT_NE(resumed, nullptr);
  EXPECT_EQ(paused->iteration, 4);
  EXPECT_EQ(resumed->iteration, 4) << "no iteration ran while paused";
  EXPECT_GE(resumed->time_s - paused->time_s, 1.4);
  // Metrics still flowed during the pause (devices stay connected and report).
  int reports = 0;
  for (const auto& m : r.log.metrics) {
    reports += m.metric == "samples_per_s" && !m.device.empty() && m.time_s > paused->time_s &&
               m.time_s < resumed->time_s;
  }
  EXPECT_GE(reports, 4);
  EXPECT_LT(r.summary.training_s, r.summary.elapsed_s - 1.4);
}

}  // namespace
}  // namespace edgerig
