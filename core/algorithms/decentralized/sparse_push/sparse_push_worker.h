// The agent side of sparse-push: the gossip worker's round (a local step on its shard, then one
// exchange over the round's graph, GossipDone once every in-neighbour's share has arrived), with
// SparsePushNode's compressed shares in place of whole-model ones. Speaks the family's gossip
// protocol (GossipSetup / GossipStep / GossipDone / GossipReady), so GossipCoordinator drives it.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"

namespace edgerig {

// The node's options from the experiment's parameters (k, gamma, compression, skewCompensation).
SparsePushNode::Options sparsePushOptions(const AlgorithmParams& params, uint64_t seed, int device);

class SparsePushWorker : public Worker {
 public:
  static Result<std::unique_ptr<Worker>> create(GossipRules rules, WorkerContext& ctx,
                                                const wire::WorkerStart& start);

  void describe(wire::WorkerReady& ready) const override;
  Status onMessage(const wire::AlgoMessage& message) override;
  Result<wire::StateReply> state(bool optimizer) override { return replica_->state(optimizer); }

 private:
  SparsePushWorker(GossipRules rules, WorkerContext& ctx) : rules_(std::move(rules)), ctx_(ctx) {}

  Status onStep(const decentralized::GossipStep& step);
  Status onShare(const wire::AlgoMessage& m, const decentralized::SparseShare& share);
  Status onSetup(const decentralized::GossipSetup& setup, bool reply);
  Status onEvaluate(const decentralized::Evaluate& request);
  Status finishRound(bool cut_short);

  struct PendingShare {
    SparseDelta delta;
    double weight = 0;
  };
  static Result<PendingShare> decode(const wire::AlgoMessage& m,
                                     const decentralized::SparseShare& share);

  GossipRules rules_;
  WorkerContext& ctx_;
  std::unique_ptr<ModelReplica> replica_;
  decentralized::GossipSetup setup_;
  std::optional<SparsePushNode> node_;
  struct Round {
    int64_t iteration = -1;
    bool active = false;
    std::vector<int> expected;
    LocalStep local;
    std::chrono::steady_clock::time_point sent_at;
    int64_t sent_bytes = 0;
    int64_t dense_bytes = 0;
  } round_;
  std::map<std::pair<int64_t, int>, PendingShare> pending_;
};

}  // namespace edgerig
