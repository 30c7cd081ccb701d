// The agent side of sparse-push: the family's gossip round engine (common/gossip_worker.h) with
// SparsePushNode's compressed shares (SparseShare) in place of whole-model ones. Speaks the
// family's gossip protocol (GossipSetup / GossipStep / GossipDone / GossipReady), so
// GossipCoordinator drives it.
#pragma once

#include <optional>

#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"
#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"

namespace edgerig {

// The node's options from the experiment's parameters (k, gamma, compression, encoding,
// skewCompensation).
SparsePushNode::Options sparsePushOptions(const AlgorithmParams& params, uint64_t seed, int device);

// The compact encoding of `delta` (values already rounded to float16) into `body`'s gaps and
// halves (decentralized.proto, SparseShare); the message then carries no tensors.
void encodeCompact(const SparseDelta& delta, decentralized::SparseShare& body);

// The entries of a share that passed checkSparseShare, in tensors of their own (a share may wait
// for its round): int32 offsets and float32 values, whichever the encoding.
Result<SparseDelta> deltaOf(const wire::AlgoMessage& m, CheckedSparseShare& checked);

class SparsePushGossip : public GossipStrategy {
 public:
  Status start(WorkerContext& ctx, ModelReplica& replica) override;
  bool isShare(const wire::AlgoMessage& m) const override;
  Result<Incoming> decode(const wire::AlgoMessage& m) const override;
  Result<std::vector<Outgoing>> share(const decentralized::GossipStep& step, int me,
                                      const MixingWeights& weights, WorkerContext& ctx,
                                      ModelReplica& replica, LocalStep& local) override;
  Status absorb(const Incoming& share, ModelReplica& replica) override;
  void endRound(ModelReplica& replica) override;
  void debias(ModelReplica& replica) override { node_->debias(replica.parameters()); }
  // Push-sum keeps a late share's mass, and the edge's copy must take its q at both ends.
  bool keepsLateShares() const override { return true; }
  void report(decentralized::GossipDone& done) const override;

 private:
  std::optional<SparsePushNode> node_;
  bool compact_ = false;  // encoding: compact (gaps and halves in the body) or exact (tensors)
  int64_t sent_bytes_ = 0;
  int64_t dense_bytes_ = 0;
};

}  // namespace edgerig
