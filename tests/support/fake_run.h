// A run folder written from a script instead of by a run, for the tests and benchmarks of what
// reads run folders (the comparison, the overlay): written with core's RunLog, so it is a run
// folder in every byte, with the metrics and events a gpipe run writes, at a scripted pace.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/runlog/run_log.h"

namespace edgerig::testsupport {

struct FakeRun {
  std::string config_json = "{}\n";
  int devices = 2;
  int64_t iterations = 100;
  double setup_s = 1.0;  // before the first iteration (spawn, profile, plan)
  double seconds_per_iteration = 0.1;
  double samples_per_iteration = 64;
  double report_every_s = 0.25;  // each device's metrics report
  int64_t eval_every = 20;       // and at the end
  double eval_s = 0;             // each evaluation's time: its result comes that much later
  // Test accuracy of the evaluation after `iteration` iterations.
  std::function<double(int64_t iteration)> accuracy = [](int64_t i) {
    return 0.9 * static_cast<double>(i) / static_cast<double>(i + 50);
  };
  // When set, a decentralized run's evaluation of its devices' averaged model after `iteration`
  // iterations (the run metric averaged_model_accuracy), written beside each test_accuracy.
  std::function<double(int64_t iteration)> averaged_accuracy;
  // Bytes each device sends per iteration, by kind (cumulative counters grow by these).
  std::vector<std::pair<std::string, double>> bytes_per_iteration{{"activation", 1e5},
                                                                  {"gradient", 5e4}};
  std::vector<RunEvent> extra_events;  // faults, re-plans...: written in time order with the rest
  std::string end_kind = "run_finished";
};

// When iteration `iteration` ends: set-up, the iterations, and the evaluations before it.
inline double fakeRunTime(const FakeRun& f, int64_t iteration) {
  const int64_t evaluations = iteration > 0 ? (iteration - 1) / f.eval_every : 0;
  return f.setup_s + f.seconds_per_iteration * static_cast<double>(iteration) +
         f.eval_s * static_cast<double>(evaluations);
}

// Writes the folder (which must not exist yet). Returns the RunLog's status.
inline Status writeFakeRun(const std::string& dir, const FakeRun& f) {
  auto created = RunLog::create(dir, f.config_json);
  if (!created) return created.status();
  RunLog& log = **created;
  std::vector<RunEvent> events = f.extra_events;
  auto device = [](int d) { return "dev" + std::to_string(d); };
  log.append(RunEvent{0, 0, "", "run_started", "fake: gpipe, model mlp, synthetic"});
  for (int d = 0; d < f.devices; ++d) {
    log.append(RunEvent{0.1, 0, device(d), "device_joined", "local agent at 127.0.0.1:1"});
  }
  log.append(RunEvent{0.5, 0, "", "plan_changed", "even plan: a | b"});
  log.append(RunEvent{f.setup_s, 0, "", "training_started", "scripted"});
  size_t next_event = 0;
  double next_report = f.report_every_s;
  std::vector<double> busy(f.devices, 0);
  for (int64_t it = 1; it <= f.iterations; ++it) {
    const double t = fakeRunTime(f, it);
    while (next_event < events.size() && events[next_event].time_s <= t) {
      log.append(events[next_event++]);
    }
    // Device reports due by now, with their cumulative counters at that moment.
    while (next_report <= t) {
      const double done = std::max(0.0, (next_report - f.setup_s) / f.seconds_per_iteration);
      const auto at = static_cast<int64_t>(done);
      std::vector<MetricSample> report;
      for (int d = 0; d < f.devices; ++d) {
        double sent = 0;
        std::vector<MetricSample> kinds;
        for (const auto& [kind, per_iteration] : f.bytes_per_iteration) {
          const double bytes = per_iteration * static_cast<double>(at) * (d + 1);
          sent += bytes;
          kinds.push_back({next_report, at, device(d), "bytes_sent_" + kind, bytes});
        }
        busy[d] = 0.5 * std::max(0.0, next_report - f.setup_s);
        report.push_back({next_report, at, device(d), "samples_per_s", 640});
        report.push_back({next_report, at, device(d), "busy_s", busy[d]});
        report.push_back({next_report, at, device(d), "idle_s", busy[d]});
        report.push_back({next_report, at, device(d), "bytes_sent", sent});
        report.push_back({next_report, at, device(d), "bytes_out_per_s", 1e6});
        report.insert(report.end(), kinds.begin(), kinds.end());
      }
      log.append(report);
      next_report += f.report_every_s;
    }
    const double rate = f.samples_per_iteration / f.seconds_per_iteration;
    std::vector<MetricSample> step{{t, it, "", "train_loss", 2.0 / static_cast<double>(1 + it)},
                                   {t, it, "", "train_accuracy", 0.5},
                                   {t, it, "", "epoch", static_cast<double>(it) / 1000.0},
                                   {t, it, "", "samples_per_s", rate},
                                   {t, it, "", "samples_per_s_average", rate}};
    log.append(step);
    if (it % f.eval_every == 0 || it == f.iterations) {
      const double done = t + f.eval_s;
      log.append(std::vector<MetricSample>{{done, it, "", "test_accuracy", f.accuracy(it)},
                                           {done, it, "", "test_loss", 1.0 - f.accuracy(it)}});
      if (f.averaged_accuracy) {
        log.append(std::vector<MetricSample>{
            {done, it, "", "averaged_model_accuracy", f.averaged_accuracy(it)}});
      }
    }
  }
  while (next_event < events.size()) log.append(events[next_event++]);
  const double end = fakeRunTime(f, f.iterations) + f.eval_s + 0.5;
  log.append(RunEvent{end, f.iterations, "", f.end_kind, "scripted end"});
  return log.status();
}

}  // namespace edgerig::testsupport
