// Internal to the controller (controller.cpp, run_context.cpp, run_controls.cpp): one run, the
// RunContext a coordinator sees and the loop around it. Not for users of the controller API.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/algorithms/coordinator.h"
#include "core/controller/controller.h"
#include "core/controller/device_pool.h"
#include "core/controller/fault_schedule.h"
#include "core/controller/local_testbed.h"
#include "core/controller/metrics_aggregator.h"
#include "core/runlog/run_log.h"

namespace edgerig {

using Clock = std::chrono::steady_clock;
// How long the run loop waits on the device pool before looking at its controls again.
inline constexpr auto kPumpSlice = std::chrono::milliseconds(50);
// Messages nobody has waited for yet are kept for a later await, up to this many.
inline constexpr size_t kMaxStashedMessages = 4096;

// One run: the RunContext a coordinator sees, and the loop around it.
class Controller::Run : public RunContext {
 public:
  Run(Controller& owner) : owner_(owner), cfg_(owner.config_) {}

  RunSummary execute();

  // RunContext (run_context.cpp)
  const ExperimentConfig& config() const override { return cfg_; }
  int numDevices() const override { return pool_->size(); }
  std::string deviceName(int i) const override { return pool_->name(i); }
  std::string deviceAddress(int i) const override { return pool_->address(i); }
  bool alive(int i) const override { return !lost_.count(i); }
  std::vector<int> takeLost() override;
  double linkBandwidth(int from, int to) const override;
  std::vector<std::vector<double>> linkBandwidths() const override { return bandwidth_; }
  int64_t linkProbes() const override { return probes_done_; }
  Status probeLinks(const std::string& why) override;  // link_probe.cpp
  Result<std::vector<wire::WorkerReady>> startWorkers(std::vector<WorkerLaunch> launches,
                                                      std::chrono::milliseconds timeout) override;
  void send(int device, wire::AlgoMessage message) override;
  void sendControl(int device, wire::Envelope env) override { pool_->send(device, std::move(env)); }
  Result<DeviceMessage> await(const std::function<bool(const DeviceMessage&)>& want,
                              std::chrono::milliseconds timeout, const std::string& what) override;
  void event(const std::string& kind, const std::string& detail, int device = -1,
             const EventFields& fields = {}) override;
  void metric(const std::string& name, double value, int device = -1) override;
  void setCapacity(int device, double capacity) override {
    metrics_.device(device).capacity = capacity;
  }
  void planChanged(const StagePlan& plan, const std::vector<int>& device_of_stage,
                   const std::vector<LayerInfo>& layers, const std::vector<double>& layer_time_s,
                   const std::string& why) override;
  void graphChanged(const GraphLayout& graph, const std::string& why) override;

 private:
  double now() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  Status bringUpDevices();
  Status applyProfiles();
  Status applyFault(const FaultConfig& f, const std::string& source);
  // link_probe.cpp: one round of the probe (each sender one burst to one receiver) and the
  // reports it waits for; re-probes at a boundary when links changed.
  Status probeRound(uint64_t id, const std::vector<std::pair<int, int>>& pairs,
                    std::vector<std::vector<double>>& into);
  Status reprobeIfLinksChanged();
  // Handles what no coordinator waits for (metrics, fault acks, errors, closures) and keeps the
  // rest for a later await; an error ends the run.
  Status handle(Incoming&& in);
  void deviceLost(int device, const Status& why);
  bool stale(const wire::Envelope& env) const;  // from a worker generation already replaced
  void recordShards(int device, const wire::WorkerReady& ready);
  Status pollControls();
  // At an iteration boundary: holds while paused, applies a requested switch or restart.
  Status boundary(RunProgress& progress);
  Status switchTo(const AlgorithmConfig& next);
  Status restartDevice(int device);
  Status applyProfile(int device);
  Result<std::unique_ptr<Coordinator>> startCoordinator(const Coordinator::Handover* state);
  void publishDevices(bool force);
  void logStep(const StepResult& step);
  // A learning_rate event when a step of training.lrSchedule starts at `iteration`.
  void announceLearningRate(int64_t iteration);
  RunSummary finish(const Status& st);

  Controller& owner_;
  ExperimentConfig cfg_;
  Clock::time_point t0_ = Clock::now();
  std::unique_ptr<RunLog> log_;
  std::unique_ptr<bridge::IoThread> io_;
  std::unique_ptr<LocalTestbed> testbed_;
  std::unique_ptr<DevicePool> pool_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<FaultSchedule> schedule_;
  MetricsAggregator metrics_;
  int64_t iteration_ = 0;
  double last_devices_publish_ = -1;
  RunSummary summary_;
  std::optional<AlgorithmConfig> pending_switch_;
  std::vector<int> pending_restarts_;
  // Device → run time its freeze ends. A report that arrives before then was sent before the
  // freeze began (a frozen agent sends nothing), so it does not end the frozen state.
  std::map<int, double> frozen_until_;
  double paused_s_ = 0;  // excluded from training time
  // The seam's bookkeeping: worker generation, messages kept for a later await, lost devices.
  uint32_t generation_ = 0;
  std::deque<DeviceMessage> stash_;
  bool stash_overflow_logged_ = false;
  std::set<int> lost_;                          // lost and not restarted
  std::vector<int> untaken_lost_;               // lost, not yet taken by the coordinator
  std::map<int, std::vector<int64_t>> shards_;  // device → class counts, as last written
  // The bandwidth probe: the measured matrix [from][to] in bytes/s, probes done, and why links
  // must be measured again at the next boundary (empty: they need not).
  std::vector<std::vector<double>> bandwidth_;
  int64_t probes_done_ = 0;
  uint64_t probe_id_ = 0;
  std::string links_changed_;
};

}  // namespace edgerig
