// The controller side of `gpipe`: profile every device, cut the chain (explicit cuts, even,
// or the balanced dynamic program), start stage k on device k, then drive one synchronous
// mini-batch per iteration and wait for every stage's flush. No fault tolerance: a lost
// stage ends the run with an error that says so.
#pragma once

#include <optional>

#include "core/algorithms/coordinator.h"

namespace edgerig {

class GpipeCoordinator : public Coordinator {
 public:
  explicit GpipeCoordinator(RunContext& ctx) : ctx_(ctx) {}

  Status setup() override;
  int64_t iterationsPerEpoch() const override;
  int64_t trainSize() const override { return train_size_; }
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  std::string layoutDescription() const override;
  Result<wire::ModelStateBlob> gatherState() override;
  void startFrom(wire::ModelStateBlob state) override { initial_state_ = std::move(state); }

  // Layer times of the fastest device and each device's capacity (fastest = 1).
  static void capacitiesFromProfiles(const std::vector<std::vector<double>>& layer_times,
                                     std::vector<double>& reference, std::vector<double>& capacity);

 private:
  Status profileDevices();
  Status choosePlan();
  Status startStages();
  wire::ModelStateBlob stageSlice(int stage) const;
  // A lost stage ends a gpipe run; this is the error that says so.
  Status noFaultTolerance(const Status& lost);
  int deviceOf(int stage) const { return device_of_stage_[static_cast<size_t>(stage)]; }
  int stageOf(int device) const;

  RunContext& ctx_;
  std::vector<LayerInfo> layers_;
  std::vector<double> reference_time_s_;
  std::vector<double> capacity_;
  std::optional<StagePlan> plan_;
  std::vector<int> device_of_stage_;
  int micro_batches_ = 1;
  int64_t train_size_ = 0;
  int64_t test_size_ = 0;
  int64_t eval_counter_ = 0;
  wire::ModelStateBlob initial_state_;  // empty: the seed's initial weights
};

}  // namespace edgerig
