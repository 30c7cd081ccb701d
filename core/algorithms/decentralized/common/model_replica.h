// What every device of a decentralized run holds: the whole model, its optimizer, and its own
// data shard sampled from the run's seed. Shared by the family's workers (allreduce, gossip, ...).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "core/algorithms/worker.h"
#include "core/model/layer_chain.h"
#include "core/model/model_state.h"
#include "core/model/stage.h"

namespace edgerig {

// Forward and backward of one local batch: the gradient of the batch's mean loss is left in the
// parameters' .grad, nothing is applied yet.
struct LocalStep {
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t samples = 0;
  double compute_s = 0;  // emulated slowdown included
};

struct EvalCounts {
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t samples = 0;
};

class ModelReplica {
 public:
  // The model from the seed, or from start.initial_state (and the optimizer's momentum from
  // start.initial_optimizer); this device's shard of the training set.
  static Result<std::unique_ptr<ModelReplica>> create(WorkerContext& ctx,
                                                      const wire::WorkerStart& start);

  // The shard indices of this device's batch at `iteration`: a seeded permutation of its shard
  // per local epoch (device-specific stream), batch_size at a time. Every process (and a test's
  // reference) computes the same.
  static std::vector<int64_t> localBatch(const std::vector<int64_t>& shard, int64_t batch_size,
                                         uint64_t seed, int device, int64_t iteration);

  Result<LocalStep> computeGradients(int64_t iteration);
  // The same on the training samples `indices` (a batch of any size; edgegossip's).
  Result<LocalStep> computeGradientsOn(const std::vector<int64_t>& indices);
  // Applies the parameters' current .grad (one SGD step, at the schedule's rate for `iteration`)
  // and clears them; returns the seconds.
  double applyStep(int64_t iteration);
  void zeroGradients();
  // On test samples [offset, offset + samples), clipped to the test split.
  Result<EvalCounts> evaluate(int64_t offset, int64_t samples);
  // The same for another whole model (the devices' averaged one): loaded into the replica's
  // module for the evaluation, then the replica's own weights are put back. A model that does
  // not fit (a tensor missing, another shape) is refused by name and changes nothing.
  Result<EvalCounts> evaluateModel(const ModelState& model, int64_t offset, int64_t samples);
  Result<wire::StateReply> state(bool optimizer);
  // Weights (and, when present, momentum) from a whole-model state.
  Status load(const wire::ModelStateBlob& weights, const wire::ModelStateBlob& momentum);

  int64_t parameterCount() const;
  // This device's shard: indices into the training set.
  const std::vector<int64_t>& shard() const { return *shard_; }
  std::vector<torch::Tensor> parameters() const { return module_->parameters(); }
  StageModule& module() { return module_; }

 private:
  explicit ModelReplica(WorkerContext& ctx) : ctx_(ctx) {}

  WorkerContext& ctx_;
  std::optional<LayerChain> chain_;
  StageModule module_{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer_;
  const Dataset* train_ = nullptr;
  const Dataset* test_ = nullptr;
  const std::vector<int64_t>* shard_ = nullptr;
};

// Runs `fn` and charges its wall time to the meter (which adds the emulated slowdown); returns
// the charged seconds.
template <typename Fn>
double timedCompute(ComputeMeter& meter, Fn&& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return meter.afterCompute(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace edgerig
