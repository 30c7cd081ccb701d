// The controller side of a synchronous pipeline (gpipe, and the base of ftpipehd): profile every
// device, cut the chain (explicit cuts, even, or the balanced dynamic program), start stage k on
// device k, then drive one micro-batched mini-batch per iteration and wait for every stage's
// flush. A lost stage ends the run with an error that says so, unless a subclass recovers.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/algorithms/coordinator.h"
#include "core/model/model_state.h"

namespace edgerig {

// The algorithm body of `m` as T, when `m` carries one (nullopt otherwise, or if it does not
// parse): for the predicates of RunContext::await.
template <typename T>
std::optional<T> bodyIn(const DeviceMessage& m) {
  if (!m.env.has_algo() || !m.env.algo().body().Is<T>()) return std::nullopt;
  T out;
  if (!m.env.algo().body().UnpackTo(&out)) return std::nullopt;
  return out;
}

class PipelineCoordinator : public Coordinator {
 public:
  explicit PipelineCoordinator(RunContext& ctx) : ctx_(ctx) {}

  Status setup() override;
  int64_t iterationsPerEpoch() const override;
  int64_t trainSize() const override { return train_size_; }
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  std::string layoutDescription() const override;
  Result<wire::ModelStateBlob> gatherState() override;
  void startFrom(wire::ModelStateBlob state) override { initial_state_ = std::move(state); }
  // Weights and momentum, from every stage.
  Result<Handover> gatherHandover() override;
  void startFrom(Handover handover) override {
    initial_state_ = std::move(handover.weights);
    initial_optimizer_ = std::move(handover.optimizer);
  }

  // Layer times of the fastest device and each device's capacity (fastest = 1).
  static void capacitiesFromProfiles(const std::vector<std::vector<double>>& layer_times,
                                     std::vector<double>& reference, std::vector<double>& capacity);

 protected:
  // Timed passes per layer in a device's profile (after a warm-up), of which the median counts.
  // Each agent profiles while the others start up beside it: with 2 the first layers of vgg
  // came out 3-70x too slow (conv1_1, 64x fewer multiply-adds than conv1_2, above it); with 9
  // conv1_1 was 8-14x below conv1_2 in every run (docs/design.md, gpipe 1).
  static constexpr int kProfileRepetitions = 9;
  Status profileDevices();
  Status choosePlan();
  Status startStages();
  // A new generation: every stage started on `plan` over `devices` from that model (weights and
  // SGD momentum; empty blobs: the seed's weights, fresh momentum). The blobs are handed to the
  // stages once, not kept. The recoveries, a restart and a rejoin all go through here.
  Status restartStages(const StagePlan& plan, std::vector<int> devices,
                       wire::ModelStateBlob weights, wire::ModelStateBlob momentum);
  // The dynamic program's inputs for the current stage order: the profiled reference layer
  // times, activation sizes per mini-batch, `capacity` per stage, and the bandwidth the run
  // context reports for each link between neighbouring stages (measured once the probe exists).
  PlanInputs planInputs(const std::vector<double>& capacity) const;
  // The experiment's plan kind (algorithm.plan: even, even-cost or balanced) over the current
  // stage order, `capacity` per stage.
  Result<StagePlan> planOfKind(const std::vector<double>& capacity) const;
  // One iteration: the mini-batch of `data_iteration` (a recovery replays older batches), run
  // under the id `iteration`, and every stage's flush.
  Result<StepResult> runIteration(int64_t iteration, int64_t data_iteration);
  // The tensors of `whole` (named <layer>.<param>...) that belong to stage `stage`'s layers.
  wire::ModelStateBlob stageSlice(const wire::ModelStateBlob& whole, int stage) const;
  // What a lost stage means: the run stops with this error (the algorithm has no recovery).
  virtual Status lostDevice(const Status& lost);
  // Every stage's weights (and with `optimizer` its momentum), in stage order.
  Result<Handover> gatherStages(bool optimizer);
  // The weights and momentum of each of `devices`' stages (FetchState), one reply from each, added
  // to `weights` and `momentum` in the order they come; `what` names the wait in a time-out.
  Status fetchStates(const std::vector<int>& devices, std::chrono::milliseconds timeout,
                     const std::string& what, ModelState& weights, ModelState& momentum);
  // A replica of `layers` (FetchReplica to `holder`, which answers with a pipeline::Replica).
  struct ReplicaCopy {
    ModelState tensors;     // "<layer>.<param>", and "....momentum" when the holder keeps it
    int64_t iteration = 0;  // the mini-batches the copy has seen
  };
  // nullopt when `holder` keeps no replica of them.
  Result<std::optional<ReplicaCopy>> fetchReplica(int holder,
                                                  const std::vector<std::string>& layers,
                                                  std::chrono::milliseconds timeout,
                                                  const std::string& what);
  // A `recovery_phase` event: `phase` of the recovery at `iteration` ended, after `took` s.
  void recoveryPhase(const char* phase, double took, int64_t iteration);
  // A recovery's `recovered` event, with the fields the views and the comparison read, and the
  // run metrics recovery_s and iterations_retrained.
  struct Recovery {
    std::string detail;   // for people
    std::string devices;  // who is left, by name
    double detection_s = 0;
    double seconds = 0;
    std::string sources;  // where each lost layer came from
    int64_t retrained = 0;
    int64_t iteration = 0;
  };
  void recovered(const Recovery& r);
  int deviceOf(int stage) const { return device_of_stage_[static_cast<size_t>(stage)]; }
  int stageOf(int device) const;
  int numStages() const { return static_cast<int>(device_of_stage_.size()); }

  RunContext& ctx_;
  std::vector<LayerInfo> layers_;
  std::vector<double> reference_time_s_;  // per layer, per mini-batch, fastest device
  std::vector<double> capacity_;          // per device, from the profile (fastest = 1)
  std::optional<StagePlan> plan_;
  std::vector<int> device_of_stage_;
  int micro_batches_ = 1;
  // How long an iteration may take before the run fails (ftpipehd: its backward deadline).
  std::chrono::milliseconds step_timeout_ = std::chrono::seconds(300);
  // After an iteration that failed: the stages whose flush had not come back.
  std::vector<int> unfinished_stages_;
  int64_t train_size_ = 0;
  int64_t test_size_ = 0;
  int64_t eval_counter_ = 0;
  wire::ModelStateBlob initial_state_;      // empty: the seed's initial weights
  wire::ModelStateBlob initial_optimizer_;  // empty: fresh momentum
};

}  // namespace edgerig
