// The agent side of edgegossip: dpsgd's round (DenseGossip on the family's round engine) with
// the local batch the coordinator gives this device each round (GossipStep.local_batch) drawn
// from its shard, and its averaging weight (GossipStep.mix_weight: local batch / mean batch) as
// the weight u of its share, so a neighbour's model counts in proportion to its batch.
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

class EdgeGossip : public DenseGossip {
 public:
  EdgeGossip() : DenseGossip(/*push_sum=*/false) {}
  Status start(WorkerContext& ctx, ModelReplica& replica) override;
  Result<LocalStep> localStep(const decentralized::GossipStep& step, WorkerContext& ctx,
                              ModelReplica& replica) override;

 private:
  std::optional<ShardCursor> cursor_;
};

}  // namespace edgerig
