// Faults in a real run: a scheduled slowdown slows the run's iterations as the test's own clock
// sees them, a frozen device shows as frozen until its freeze ends, and a killed agent ends a
// gpipe run cleanly with the loss logged and the run folder intact.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "core/controller/controller.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

ExperimentConfig smallRun(int devices, int iterations) {
  ExperimentConfig c;
  c.name = "faults";
  c.seed = 3;
  c.local_count = devices;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 4096;
  c.batch_size = 64;
  c.algorithm.params.set("microBatches", int64_t{2});
  c.max_iterations = iterations;
  c.eval_every = 0;
  return c;
}

double meanStepCompute(const RunData& run, const std::string& device, int64_t from, int64_t to) {
  double sum = 0;
  int n = 0;
  for (const auto& m : run.metrics) {
    if (m.metric == "step_compute_s" && m.device == device && m.iteration > from &&
        m.iteration <= to) {
      sum += m.value;
      ++n;
    }
  }
  return n ? sum / n : 0;
}

// The mean wall time of iterations (from, to], as the test's own clock saw them end.
double meanIterationWall(const std::map<int64_t, double>& ended_at, int64_t from, int64_t to) {
  const auto a = ended_at.find(from);
  const auto b = ended_at.find(to);
  if (a == ended_at.end() || b == ended_at.end() || to <= from) return 0;
  return (b->second - a->second) / static_cast<double>(to - from);
}

TEST(RunFaults, ScheduledSlowdownSlowsTheRunAsSeenFromOutside) {
  // A model whose compute outweighs the messages, so that a slower stage shows in wall time; dev0
  // holds the convolutions, nearly all of it (dev1 the small fully connected layers).
  auto c = smallRun(2, 40);
  c.model = "cnn";
  c.synthetic_size = 2560;
  FaultConfig slow;
  slow.device = 0;
  slow.kind = "slowdown";
  slow.slowdown = 6;
  slow.at_iteration = 20;
  c.faults.push_back(slow);
  const auto dir = testsupport::runDir("slowdown");
  // When each iteration ended, by this test's clock: nothing the agents report about themselves.
  std::mutex mu;
  std::map<int64_t, double> ended_at;
  const auto t0 = std::chrono::steady_clock::now();
  RunObserver o;
  o.on_progress = [&](const RunProgress& p) {
    std::lock_guard lock(mu);
    ended_at.emplace(p.iteration,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts, o);
  auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  std::lock_guard lock(mu);
  // Iterations 21.. ran after the fault. dev0 does nearly all the compute: 6× slower, it makes an
  // iteration several times as long.
  const double before = meanIterationWall(ended_at, 4, 20);
  const double after = meanIterationWall(ended_at, 22, 40);
  ASSERT_GT(before, 0) << "iterations 4 and 20 were not both seen";
  ASSERT_GT(after, 0) << "iterations 22 and 40 were not both seen";
  EXPECT_GT(after / before, 2.5) << "iteration wall time " << before * 1e3 << " ms before, "
                                 << after * 1e3 << " ms after the slowdown";
  // The busy time the agents report agrees: dev0's, not dev1's.
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  const double dev1 = meanStepCompute(*run, "dev1", 22, 40) / meanStepCompute(*run, "dev1", 2, 20);
  const double dev0 = meanStepCompute(*run, "dev0", 22, 40) / meanStepCompute(*run, "dev0", 2, 20);
  EXPECT_GT(dev0 / dev1, 3.0) << "dev0 x" << dev0 << ", dev1 x" << dev1;
  bool logged = false;
  for (const auto& e : run->events) {
    if (e.kind == "fault_applied" && e.device == "dev0" &&
        e.detail.find("slowdown") != std::string::npos) {
      logged = true;
      EXPECT_EQ(e.iteration, 20);
    }
  }
  EXPECT_TRUE(logged);
}

TEST(RunFaults, LinkFaultsSlowTheRunAsEmulated) {
  // mlp over 2 stages: every iteration dev1 (the last stage) sends the gradients of its input
  // back to dev0, at least 64 samples × 128 floats = 32 KiB whichever of mlp's cuts is used.
  auto c = smallRun(2, 45);
  FaultConfig delay;
  delay.device = 1;
  delay.kind = "link";
  delay.delay_ms = 40;
  delay.at_iteration = 15;
  FaultConfig cap;
  cap.device = 1;
  cap.kind = "link";
  cap.bandwidth_mbps = 1;  // 32 KiB at 1 Mbit/s: at least 262 ms an iteration
  cap.at_iteration = 30;
  c.faults = {delay, cap};
  std::mutex mu;
  std::map<int64_t, double> ended_at;
  const auto t0 = std::chrono::steady_clock::now();
  RunObserver o;
  o.on_progress = [&](const RunProgress& p) {
    std::lock_guard lock(mu);
    ended_at.emplace(p.iteration,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir("link");
  Controller controller(c, opts, o);
  auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  std::lock_guard lock(mu);
  const double plain = meanIterationWall(ended_at, 4, 15);
  const double delayed = meanIterationWall(ended_at, 17, 30);
  const double capped = meanIterationWall(ended_at, 32, 45);
  ASSERT_GT(plain, 0);
  ASSERT_GT(delayed, 0);
  ASSERT_GT(capped, 0);
  // Measured from outside, in wall time: the delay adds at least one delayed message to every
  // iteration's critical path, the cap at least the time the gradients need at 1 Mbit/s.
  EXPECT_GT(delayed - plain, 0.030)
      << "plain " << plain * 1e3 << " ms, delayed " << delayed * 1e3 << " ms an iteration";
  EXPECT_GT(capped - plain, 0.200)
      << "plain " << plain * 1e3 << " ms, capped " << capped * 1e3 << " ms an iteration";
}

TEST(RunFaults, FrozenDeviceShowsFrozenUntilTheFreezeEnds) {
  auto c = smallRun(2, 40);
  FaultConfig freeze;
  freeze.device = 1;
  freeze.kind = "freeze";
  freeze.freeze_s = 1.5;  // under the 3.5 s loss timeout: a straggler, not a loss
  freeze.at_iteration = 10;
  c.faults.push_back(freeze);
  struct Seen {
    double t;
    DeviceState state;
    std::string faults;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  const auto t0 = std::chrono::steady_clock::now();
  RunObserver o;
  o.on_devices = [&](const std::vector<DeviceStatus>& ds) {
    std::lock_guard lock(mu);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& d : ds) {
      if (d.index == 1) seen.push_back({t, d.state, d.faults});
    }
  };
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir("freeze");
  Controller controller(c, opts, o);
  auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;

  std::lock_guard lock(mu);
  auto first = std::find_if(seen.begin(), seen.end(),
                            [](const Seen& s) { return s.state == DeviceState::kFrozen; });
  ASSERT_NE(first, seen.end()) << "dev1 never showed as frozen";
  EXPECT_NE(first->faults.find("freeze 1.5 s"), std::string::npos) << first->faults;
  // Frozen for the whole freeze (a report sent just before it does not end it), then back.
  for (auto it = first; it != seen.end() && it->t < first->t + 1.2; ++it) {
    EXPECT_EQ(it->state, DeviceState::kFrozen) << "at +" << it->t - first->t << " s";
  }
  auto back = std::find_if(first, seen.end(),
                           [](const Seen& s) { return s.state == DeviceState::kTraining; });
  ASSERT_NE(back, seen.end()) << "dev1 never came back from the freeze";
  EXPECT_GE(back->t - first->t, 1.2);
  EXPECT_EQ(back->faults.find("freeze"), std::string::npos)
      << "an ended freeze is no longer an applied fault: " << back->faults;
}

TEST(RunFaults, KilledAgentEndsGpipeRunCleanly) {
  auto c = smallRun(3, 400);
  FaultConfig crash;
  crash.device = 1;
  crash.kind = "crash";
  crash.at_iteration = 10;
  c.faults.push_back(crash);
  const auto dir = testsupport::runDir("crash");
  ControllerOptions opts;
  opts.run_dir = dir;
  opts.heartbeat_interval = std::chrono::milliseconds(200);
  opts.loss_timeout = std::chrono::milliseconds(1000);
  Controller controller(c, opts);
  const auto t0 = std::chrono::steady_clock::now();
  auto summary = controller.run();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(summary.ok);
  EXPECT_FALSE(summary.stopped);  // a loss is a failure, not a stop
  EXPECT_NE(summary.error.find("dev1"), std::string::npos) << summary.error;
  EXPECT_NE(summary.error.find("lost"), std::string::npos) << summary.error;
  EXPECT_LT(took, 60.0);
  EXPECT_LT(summary.iterations, 400);

  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  std::vector<std::string> kinds;
  for (const auto& e : run->events) kinds.push_back(e.kind);
  auto has = [&](const std::string& k) {
    return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
  };
  EXPECT_TRUE(has("device_lost"));
  EXPECT_TRUE(has("run_failed"));
  EXPECT_EQ(kinds.back(), "run_failed");
  int losses = 0;
  for (const auto& m : run->metrics) losses += m.metric == "train_loss" ? 1 : 0;
  EXPECT_GE(losses, 10) << "the iterations before the crash are in metrics.csv";
  EXPECT_TRUE(exportWide(dir, dir + "/wide.csv").isOk());
}

}  // namespace
}  // namespace edgerig
