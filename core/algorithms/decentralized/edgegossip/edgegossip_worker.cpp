#include "core/algorithms/decentralized/edgegossip/edgegossip_worker.h"

#include <algorithm>

#include "core/data/random_stream.h"
#include "core/data/sampler.h"

namespace edgerig {

ShardCursor::ShardCursor(const std::vector<int64_t>& shard, uint64_t seed, int device)
    : shard_(shard), seed_(seed), device_(device) {}

std::vector<int64_t> ShardCursor::next(int64_t size) {
  const int64_t n = static_cast<int64_t>(shard_.size());
  size = std::clamp<int64_t>(size, 1, std::max<int64_t>(n, 1));
  if (epoch_ < 0 || position_ + size > n) {
    ++epoch_;
    position_ = 0;
    // The sampler's permutation of this device's shard (batch size plays no part in it).
    const EpochSampler sampler(n, size, mixSeed(seed_, static_cast<uint64_t>(device_) + 1));
    order_ = sampler.permutation(epoch_);
  }
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(size));
  for (int64_t i = 0; i < size && position_ + i < n; ++i) {
    out.push_back(shard_[static_cast<size_t>(order_[static_cast<size_t>(position_ + i)])]);
  }
  position_ += size;
  return out;
}

Status EdgeGossip::start(WorkerContext& ctx, ModelReplica& replica) {
  cursor_.emplace(replica.shard(), ctx.run().seed(), ctx.device());
  return Status::ok();
}

void weighGradients(const std::vector<torch::Tensor>& parameters, double weight) {
  if (weight == 1.0) return;
  torch::NoGradGuard no_grad;
  for (const auto& p : parameters) {
    if (p.grad().defined()) p.mutable_grad().mul_(weight);
  }
}

Result<LocalStep> EdgeGossip::localStep(const decentralized::GossipStep& step, WorkerContext& ctx,
                                        ModelReplica& replica) {
  const int64_t size = step.local_batch() > 0 ? step.local_batch() : ctx.run().batch_size();
  auto local = replica.computeGradientsOn(cursor_->next(size));
  if (!local) return local.status();
  // A batch of 2 at the full learning rate (and momentum 0.9), alone for up to maxPeriod rounds,
  // made steps that diverged the run (docs/design.md); weighed by its batch it steps 2/b̄ as far.
  weighGradients(replica.parameters(), step.mix_weight() > 0 ? step.mix_weight() : 1.0);
  local->compute_s += replica.applyStep(step.iteration());
  return local;
}

Result<std::vector<GossipStrategy::Outgoing>> EdgeGossip::share(
    const decentralized::GossipStep& step, int me, const MixingWeights& weights, WorkerContext& ctx,
    ModelReplica& replica, LocalStep& local) {
  decentralized::GossipStep plain = step;
  plain.clear_mix_weight();
  return DenseGossip::share(plain, me, weights, ctx, replica, local);
}

}  // namespace edgerig
