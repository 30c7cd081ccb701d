// Internal to the controller (controller.cpp, run_controls.cpp): one run, the RunContext a
// coordinator sees and the loop around it. Not for users of the controller API.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
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

// One run: the RunContext a coordinator sees, and the loop around it.
class Controller::Run : public RunContext {
 public:
  Run(Controller& owner) : owner_(owner), cfg_(owner.config_) {}

  RunSummary execute();

  // RunContext
  const ExperimentConfig& config() const override { return cfg_; }
  int numDevices() const override { return pool_->size(); }
  std::string deviceName(int i) const override { return pool_->name(i); }
  std::string deviceAddress(int i) const override { return pool_->address(i); }
  double deviceBandwidthBytesPerS(int i) const override {
    return i < static_cast<int>(cfg_.profiles.size()) ? cfg_.profiles[i].bandwidth_mbps * 1e6 / 8
                                                      : 0.0;
  }
  void send(int device, wire::Envelope env) override { pool_->send(device, std::move(env)); }
  Result<DeviceMessage> await(const std::function<bool(const DeviceMessage&)>& want,
                              std::chrono::milliseconds timeout, const std::string& what) override;
  void event(const std::string& kind, const std::string& detail, int device = -1) override;
  void setCapacity(int device, double capacity) override {
    metrics_.device(device).capacity = capacity;
  }
  void planChanged(const StagePlan& plan, const std::vector<int>& device_of_stage,
                   const std::vector<LayerInfo>& layers, const std::vector<double>& layer_time_s,
                   const std::string& why) override;

 private:
  double now() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  Status bringUpDevices();
  Status applyProfiles();
  Status applyFault(const FaultConfig& f, const std::string& source);
  // Handles whatever is not the awaited reply; an error ends the run.
  Status handle(const Incoming& in);
  Status pollControls();
  // At an iteration boundary: holds while paused, applies a requested switch.
  Status boundary(RunProgress& progress);
  Status switchTo(const AlgorithmConfig& next);
  Status restartDevice(int device);
  Status applyProfile(int device);
  Result<std::unique_ptr<Coordinator>> startCoordinator(const wire::ModelStateBlob* state);
  void metric(const std::string& name, double value);
  void publishDevices(bool force);
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
  std::string plan_text_;
  std::optional<AlgorithmConfig> pending_switch_;
  std::vector<int> pending_restarts_;
  // Device → run time its freeze ends. A report that arrives before then was sent before the
  // freeze began (a frozen agent sends nothing), so it does not end the frozen state.
  std::map<int, double> frozen_until_;
  double paused_s_ = 0;  // excluded from training time
};

}  // namespace edgerig
