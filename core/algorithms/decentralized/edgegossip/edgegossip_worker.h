// The agent side of edgegossip: dpsgd's round (DenseGossip on the family's round engine) with
// the local batch the coordinator gives this device each round (GossipStep.local_batch) drawn
// from its shard, and the device's weight (GossipStep.mix_weight: local batch / mean batch) on
// its gradient: its loss is the sum over its batch divided by the mean batch, so every sample
// weighs the same as in one step on the global batch, and a device with a tiny batch takes a
// tiny step. The models then average with dpsgd's plain weights (u = 1): each device's update
// counts in proportion to its batch once, not twice (docs/design.md "edgegossip", rule 3).
#pragma once

#include <optional>
#include <vector>

#include "core/algorithms/decentralized/common/gossip_worker.h"

namespace edgerig {

// Consecutive batches of any size from a shard: a seeded permutation per local epoch (the same
// as ModelReplica::localBatch's), taken in order; a batch that does not fit what is left of the
// epoch starts the next one (the tail is dropped). With a constant size it gives exactly
// localBatch's batches. Sizes are clipped to the shard.
class ShardCursor {
 public:
  ShardCursor(const std::vector<int64_t>& shard, uint64_t seed, int device);
  std::vector<int64_t> next(int64_t size);

 private:
  const std::vector<int64_t>& shard_;
  uint64_t seed_;
  int device_;
  int64_t epoch_ = -1;
  int64_t position_ = 0;
  std::vector<int64_t> order_;
};

// Multiplies every parameter's .grad by `weight` (a device's local batch over the mean batch):
// the gradient of a batch's mean loss becomes that of its summed loss over the mean batch.
// Parameters without a gradient are left alone; a weight of exactly 1 changes no bit.
void weighGradients(const std::vector<torch::Tensor>& parameters, double weight);

class EdgeGossip : public DenseGossip {
 public:
  EdgeGossip() : DenseGossip(/*push_sum=*/false) {}
  Status start(WorkerContext& ctx, ModelReplica& replica) override;
  Result<LocalStep> localStep(const decentralized::GossipStep& step, WorkerContext& ctx,
                              ModelReplica& replica) override;
  // DenseGossip's share with u = 1: the batch weight is on the gradient already.
  Result<std::vector<Outgoing>> share(const decentralized::GossipStep& step, int me,
                                      const MixingWeights& weights, WorkerContext& ctx,
                                      ModelReplica& replica, LocalStep& local) override;

 private:
  std::optional<ShardCursor> cursor_;
};

}  // namespace edgerig
