// The controller side of `allreduce`: every device trains on its own shard and the ring
// averages their gradients each iteration, which equals one device training on the global
// batch. Survives lost devices: the ring re-forms over the survivors at once and the
// interrupted iteration is run again; a restarted device rejoins with the current model.
#pragma once

#include "core/algorithms/coordinator.h"
#include "decentralized.pb.h"

namespace edgerig {

class AllreduceCoordinator : public Coordinator {
 public:
  explicit AllreduceCoordinator(RunContext& ctx) : ctx_(ctx) {}

  Status setup() override;
  int64_t iterationsPerEpoch() const override;
  int64_t trainSize() const override { return train_size_; }
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  std::string layoutDescription() const override;
  Result<wire::ModelStateBlob> gatherState() override;
  void startFrom(wire::ModelStateBlob state) override { initial_state_ = std::move(state); }
  // Weights and momentum: every replica holds the same, so a switch or restart goes on exactly.
  Result<Handover> gatherHandover() override;
  void startFrom(Handover handover) override {
    initial_state_ = std::move(handover.weights);
    initial_momentum_ = std::move(handover.optimizer);
  }
  // With another device to take the model from; a ring of one restarts from the gathered model.
  bool rejoinsInPlace() const override { return ring_.ring_size() > 1; }
  Status deviceRejoined(int device) override;

 private:
  // Starts a worker on each of `devices` from initial_state_ (and momentum), as one ring.
  Status startRing(const std::vector<int>& devices, const wire::ModelStateBlob& momentum);
  // Drops lost devices from the ring: survivors drop an uncommitted iteration and take the new
  // ring. Fails if nobody is left.
  Status reformRing(const std::string& why);
  // reformRing when a device was lost since the last look (or the alive devices are not the
  // ring's), else nothing.
  Status reformRingIfLost(const std::string& why);
  Result<StepResult> runStep(int64_t iteration);
  void publishRing(const std::string& why);
  std::vector<int> ringDevices() const;

  RunContext& ctx_;
  decentralized::RingSetup ring_;
  int64_t train_size_ = 0;
  int64_t test_size_ = 0;
  int64_t eval_counter_ = 0;
  wire::ModelStateBlob initial_state_;
  wire::ModelStateBlob initial_momentum_;  // empty: fresh momentum
};

}  // namespace edgerig
