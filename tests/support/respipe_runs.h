// respipe runs on real agent processes for the system tests (tst_respipe, tst_respipe_losses):
// the experiment (cnn on 3 devices, even plan [conv1 pool1 | conv2 pool2 | fc1 fc2], M = 4,
// r = 1, τ = 250 ms), a run with what it wrote, and what the tests read from it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/controller/controller.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig::respipe_test {

inline constexpr int kIterations = 16;

inline ExperimentConfig respipeRun(int64_t refresh_every, int64_t takeover_misses) {
  ExperimentConfig c;
  c.name = "respipe";
  c.seed = 7;
  c.local_count = 3;
  c.model = "cnn";
  c.dataset = "fashion-mnist";
  c.train_limit = 2048;
  c.test_limit = 200;
  c.batch_size = 32;
  c.learning_rate = 0.05;
  c.momentum = 0.9;
  c.max_iterations = kIterations;
  c.eval_every = 0;
  c.algorithm.name = "respipe";
  c.algorithm.params.set("microBatches", int64_t{4});
  c.algorithm.params.set("plan", std::string("even"));
  c.algorithm.params.set("redundancy", int64_t{1});
  c.algorithm.params.set("refreshEvery", refresh_every);
  c.algorithm.params.set("deadlineMs", int64_t{250});
  c.algorithm.params.set("takeoverMisses", takeover_misses);
  return c;
}

inline FaultConfig fault(int device, const std::string& kind, int64_t at, double freeze_s = 0) {
  FaultConfig f;
  f.device = device;
  f.kind = kind;
  f.at_iteration = at;
  f.freeze_s = freeze_s;
  return f;
}

struct RunResult {
  RunSummary summary;
  RunData data;
  std::vector<double> losses;
  ModelState model;
};

// The longest time between two consecutive iterations' run-level losses, over iterations
// [from, to] (metrics.csv's time_s).
inline double longestLossGap(const RunResult& r, int64_t from, int64_t to) {
  std::map<int64_t, double> at;
  for (const auto& m : r.data.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) at[m.iteration] = m.time_s;
  }
  double longest = 0;
  for (int64_t i = from; i < to; ++i) {
    if (at.count(i) && at.count(i + 1)) longest = std::max(longest, at[i + 1] - at[i]);
  }
  return longest;
}

// Runs c; `on_event` sees every event as it is written (on the controller's thread) and may act
// on the controller. With `stop_after` > 0 a run still going then is stopped (a hang fails the
// test instead of waiting out the 300 s iteration timeout).
inline RunResult runIt(const ExperimentConfig& c, const std::string& name,
                       std::function<void(const RunEvent&, Controller&)> on_event = {},
                       std::chrono::seconds stop_after = std::chrono::seconds(0)) {
  RunResult r;
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir(name);
  opts.save_model = true;
  RunObserver o;
  Controller* self = nullptr;
  if (on_event) {
    o.on_event = [&](const RunEvent& e) {
      if (self) on_event(e, *self);
    };
  }
  Controller controller(c, opts, o);
  self = &controller;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog;
  if (stop_after.count() > 0) {
    watchdog = std::thread([&] {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, stop_after, [&] { return done; })) controller.requestStop();
    });
  }
  r.summary = controller.run();
  if (watchdog.joinable()) {
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    watchdog.join();
  }
  auto data = readRun(opts.run_dir);
  EXPECT_TRUE(data.isOk()) << data.status().message();
  if (data) r.data = std::move(data).value();
  for (const auto& m : r.data.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) r.losses.push_back(m.value);
  }
  std::ifstream in(opts.run_dir + "/model.bin", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  wire::ModelStateBlob blob;
  if (blob.ParseFromString(bytes.str())) {
    if (auto s = fromBlob(blob)) r.model = std::move(s).value();
  }
  return r;
}

inline double maxMetric(const RunResult& r, const std::string& device, const std::string& metric) {
  double v = 0;
  for (const auto& m : r.data.metrics) {
    if (m.device == device && m.metric == metric) v = std::max(v, m.value);
  }
  return v;
}

inline std::vector<RunEvent> eventsOf(const RunResult& r, std::string_view kind) {
  std::vector<RunEvent> out;
  for (const auto& e : r.data.events) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

inline double lastMetric(const RunResult& r, const std::string& device, const std::string& metric) {
  double v = 0;
  for (const auto& m : r.data.metrics) {
    if (m.device == device && m.metric == metric) v = m.value;
  }
  return v;
}

// The run without faults and without deadlines (nothing is ever routed: gpipe's arithmetic), once
// for every test that compares with it.
inline const RunResult& reference() {
  static const RunResult r = [] {
    ExperimentConfig c = respipeRun(4, 1000);
    c.algorithm.params.set("deadlineMs", int64_t{0});
    return runIt(c, "reference");
  }();
  return r;
}

inline double worstLossDifference(const RunResult& a, const RunResult& b) {
  EXPECT_EQ(a.losses.size(), b.losses.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.losses.size(), b.losses.size()); ++i) {
    worst = std::max(worst, std::abs(a.losses[i] - b.losses[i]) / std::max(1.0, b.losses[i]));
  }
  return worst;
}

inline double worstWeightDifference(const RunResult& a, const RunResult& b) {
  EXPECT_FALSE(a.model.empty());
  EXPECT_EQ(a.model.size(), b.model.size());
  std::map<std::string, torch::Tensor> theirs(b.model.begin(), b.model.end());
  double worst = 0;
  for (const auto& [name, t] : a.model) {
    auto it = theirs.find(name);
    if (it == theirs.end()) {
      ADD_FAILURE() << "tensor " << name << " missing from the reference model";
      return 1e9;
    }
    worst = std::max(worst, (t - it->second).abs().max().item<double>());
  }
  return worst;
}

// The devices of the last plan: its rows are written one after another, so their times may
// differ by a millisecond (plans follow each other by far more than 0.1 s).
inline std::string lastPlanDevices(const RunResult& r) {
  double last = -1;
  for (const auto& p : r.data.partitions) last = std::max(last, p.time_s);
  std::string devices;
  for (const auto& p : r.data.partitions) {
    if (p.time_s > last - 0.1) devices += (devices.empty() ? "" : " ") + p.device;
  }
  return devices;
}

// Every micro-batch routed around dev1 is accounted for once from outside dev0: dev1 skipped
// its forward (RoutedAround, its iteration had ended, or it came as a probe of the bypass), or
// ran it and dev2 dropped the late answer. Which of the two depends on when dev1 reads what
// queued behind its forwards, so only the sum is fixed. When the run ends while dev1 still lags
// (it was routed around to the end), a late answer of its last micro-batches may reach dev2
// after dev2's last report: at most one iteration's 4.
inline void expectEachRoutedMicroBatchAccountedFor(const RunResult& r) {
  const double routed = lastMetric(r, "dev0", "routed_total");
  const double late = lastMetric(r, "dev2", "late_discarded");
  const double skipped = lastMetric(r, "dev1", "forwards_skipped");
  EXPECT_LE(skipped + late, routed)
      << skipped << " skipped by dev1, " << late << " discarded by dev2";
  EXPECT_GE(skipped + late, routed - 4)
      << skipped << " skipped by dev1, " << late << " discarded by dev2";
}

}  // namespace edgerig::respipe_test
