// Feeds a GUI from real local agents without a Controller: spawns them, connects, and turns
// every MetricsReport into the observer calls a run makes (metrics, devices at <= 4 Hz, links).
// Plain C++ on purpose: the benchmark's Qt translation unit includes this, never asio.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/controller/run_types.h"
#include "device_bridge/status.h"

namespace edgerig::bench {

struct PumpOptions {
  int agents = 32;
  int hz = 10;               // metrics reports per agent per second
  std::string agent_binary;  // empty: findAgentBinary()
  std::string log_dir;       // agent logs (<name>.log); empty: inherited stderr
  // Each agent loads LibTorch: 32 of them on 2 busy cores need well over the default 30 s.
  std::chrono::milliseconds start_timeout{std::chrono::seconds(180)};
  // Fault events (each a plot marker) per minute while forwarding, round-robin over the
  // devices, as a scripted fault demo makes them: labels to lay out on every replot.
  double events_per_minute = 0;
};

struct PumpCounters {
  uint64_t reports = 0;  // MetricsReports received (forwarded or not)
  uint64_t samples = 0;  // samples handed to on_metrics
  uint64_t device_updates = 0;
  int lost = 0;  // agents whose session closed
};

class MetricsPump {
 public:
  // Spawns and connects every agent, then starts the pump thread with forwarding off: reports
  // are drained and counted but the observer is not called until setForwarding(true).
  static Result<std::unique_ptr<MetricsPump>> start(const PumpOptions& options,
                                                    RunObserver observer);
  ~MetricsPump();  // stops the pump thread, closes the sessions and reaps the agents
  MetricsPump(const MetricsPump&) = delete;
  MetricsPump& operator=(const MetricsPump&) = delete;

  void setForwarding(bool on);
  PumpCounters counters() const;

 private:
  struct Impl;
  explicit MetricsPump(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgerig::bench
