// The run's samples_per_s in metrics.csv is the current rate: a slowdown halfway through a run
// shows in it within a few seconds, while samples_per_s_average (since training started, the
// summary's figure) still remembers the fast half. Measured on real agents from the run folder.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/controller/controller.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

struct Window {
  double sum = 0;
  int n = 0;
  double mean() const { return n ? sum / n : 0; }
};

TEST(ThroughputWindow, ASlowdownShowsInSecondsNotAfterTheWholeRun) {
  ExperimentConfig c;
  c.name = "window";
  c.seed = 3;
  c.local_count = 2;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 4096;
  c.batch_size = 64;
  c.algorithm.params.set("microBatches", int64_t{2});
  c.epochs = 0;
  c.max_iterations = 1000000;  // stopped below
  c.eval_every = 0;
  ControllerOptions o;
  o.run_dir = testsupport::runDir("window");
  // After 3 s of training (however long the set-up took on a loaded machine) device 1 becomes
  // 30x slower; 5 s later the run is stopped.
  Controller* self = nullptr;
  double trained_from = -1, slowed_at = -1;
  RunObserver observer;
  observer.on_progress = [&](const RunProgress& p) {
    if (trained_from < 0) trained_from = p.elapsed_s;
    if (slowed_at < 0 && p.elapsed_s - trained_from >= 3) {
      FaultConfig slow;
      slow.device = 1;
      slow.kind = "slowdown";
      slow.slowdown = 30;
      self->injectFault(slow);
      slowed_at = p.elapsed_s;
    }
    if (slowed_at >= 0 && p.elapsed_s - slowed_at >= 5) self->requestStop();
  };
  Controller controller(c, o, observer);
  self = &controller;
  const RunSummary summary = controller.run();
  ASSERT_TRUE(summary.stopped) << summary.error;
  auto run = readRun(o.run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();

  double fault_at = -1;
  for (const auto& e : run->events) {
    if (e.kind == "fault_applied" && e.device == "dev1") fault_at = e.time_s;
  }
  ASSERT_GT(fault_at, 0);
  // Before: the 1.5 s before the slowdown. After: from 2.5 s after it (the 2 s window has
  // passed it) to the end.
  Window before, after;
  double last_current = 0, last_average = 0, end = 0;
  for (const auto& m : run->metrics) {
    if (!m.device.empty()) continue;
    if (m.metric == "samples_per_s") {
      if (m.time_s > fault_at - 1.5 && m.time_s < fault_at) before.sum += m.value, ++before.n;
      if (m.time_s > fault_at + 2.5) after.sum += m.value, ++after.n;
      last_current = m.value;
      end = m.time_s;
    }
    if (m.metric == "samples_per_s_average") last_average = m.value;
  }
  ASSERT_GT(before.n, 10) << "too few fast iterations before the slowdown";
  ASSERT_GT(after.n, 3) << "too few iterations after it; the run ended at " << end << " s";
  EXPECT_LT(after.mean(), 0.5 * before.mean())
      << "before " << before.mean() << " samples/s, after " << after.mean();
  // The whole run's average still carries the fast part, as a 1/t average does.
  EXPECT_GT(last_average, 1.5 * last_current)
      << "average " << last_average << ", current " << last_current;
}

}  // namespace
}  // namespace edgerig
