// The controller side of `gpipe`: profile every device, cut the chain (explicit cuts, even,
// or the balanced dynamic program), assign stage k to device k, then drive one synchronous
// mini-batch per iteration and wait for every stage's flush. No fault tolerance: a lost
// stage ends the run (the controller reports it).
#pragma once

#include <optional>

#include "core/algorithms/coordinator.h"

namespace edgerig {

class GpipeCoordinator : public Coordinator {
 public:
  explicit GpipeCoordinator(RunContext& ctx) : ctx_(ctx) {}

  Status setup() override;
  int64_t trainSize() const override { return train_size_; }
  int64_t testSize() const override { return test_size_; }
  Result<StepResult> trainStep(int64_t iteration, const std::vector<int64_t>& indices) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  std::string planDescription() const override;
  Result<wire::ModelStateBlob> gatherState() override;
  void startFrom(wire::ModelStateBlob state) override { initial_state_ = std::move(state); }

  // Layer times of the fastest device and each device's capacity (fastest = 1).
  static void capacitiesFromProfiles(const std::vector<std::vector<double>>& layer_times,
                                     std::vector<double>& reference, std::vector<double>& capacity);

 private:
  Status profileDevices();
  Status choosePlan();
  Status assignStages();
  wire::ModelStateBlob stageSlice(int stage) const;

  RunContext& ctx_;
  std::vector<LayerInfo> layers_;
  std::vector<double> reference_time_s_;
  std::vector<double> capacity_;
  std::optional<StagePlan> plan_;
  int64_t train_size_ = 0;
  int64_t test_size_ = 0;
  int64_t eval_counter_ = 0;
  wire::ModelStateBlob initial_state_;  // empty: the seed's initial weights
};

}  // namespace edgerig
