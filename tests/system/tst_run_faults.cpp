// Faults in a real run: a scheduled slowdown shows up in that device's compute time, a frozen
// device shows as frozen until its freeze ends, and a killed agent ends a gpipe run cleanly
// with the loss logged and the run folder intact.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
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

TEST(RunFaults, ScheduledSlowdownShowsInThatDevicesComputeTime) {
  auto c = smallRun(2, 40);
  FaultConfig slow;
  slow.device = 1;
  slow.kind = "slowdown";
  slow.slowdown = 6;
  slow.at_iteration = 20;
  c.faults.push_back(slow);
  const auto dir = testsupport::runDir("slowdown");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  // Iterations 21.. ran after the fault (metrics carry the completed iteration count).
  const double before = meanStepCompute(*run, "dev1", 2, 20);
  const double after = meanStepCompute(*run, "dev1", 22, 40);
  const double other_before = meanStepCompute(*run, "dev0", 2, 20);
  const double other_after = meanStepCompute(*run, "dev0", 22, 40);
  ASSERT_GT(before, 0);
  ASSERT_GT(other_before, 0);
  // Other tests may share the 2 cores, which slows both devices alike; the slowdown of dev1
  // relative to dev0 is what the fault must show.
  const double slowed = after / before;
  const double other = other_after / other_before;
  EXPECT_GT(slowed, 2.5) << "before " << before << " s, after " << after << " s";
  EXPECT_GT(slowed / other, 3.0) << "dev1 x" << slowed << ", dev0 x" << other;
  bool logged = false;
  for (const auto& e : run->events) {
    if (e.kind == "fault_applied" && e.device == "dev1" &&
        e.detail.find("slowdown") != std::string::npos) {
      logged = true;
      EXPECT_EQ(e.iteration, 20);
    }
  }
  EXPECT_TRUE(logged);
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
