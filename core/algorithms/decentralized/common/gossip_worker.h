// The agent side of a gossip algorithm (dpsgd, sgp): on each GossipStep a local SGD step on its
// own shard, then one exchange over the round's graph (computed here from the GossipSetup and
// the round, as the coordinator computes it): its shares go straight to its out-neighbours, and
// once every in-neighbour's share has arrived it mixes them (push_sum.h) and reports GossipDone.
// A new GossipSetup (a device was lost) cuts a round short: the device mixes what arrived.
// The algorithms differ in their mixing weights and in whether the push-sum weight carries over.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <tuple>

#include "core/algorithms/decentralized/common/model_replica.h"
#include "core/algorithms/decentralized/common/push_sum.h"
#include "core/algorithms/decentralized/graphs/mixing_weights.h"
#include "decentralized.pb.h"

namespace edgerig {

// What sets one gossip algorithm apart from another.
struct GossipRules {
  std::string algorithm;  // "dpsgd", for messages
  // The weights of a round's graph: metropolisHastings (doubly stochastic), pushSumUniform, ...
  std::function<MixingWeights(const Digraph&)> weights;
  // Push-sum: the weight u carries over from round to round, and a share that arrives after a
  // change of graph is still added (nothing sent is lost). Otherwise u starts each round at 1
  // and such a share is dropped (it was meant for a round that is over).
  bool push_sum = false;
};

// The graph declared by a GossipSetup.
GraphSpec graphSpecOf(const decentralized::GossipSetup& setup);

class GossipWorker : public Worker {
 public:
  // For a registry entry: `rules` fixed, the rest from the WorkerStart.
  static Result<std::unique_ptr<Worker>> create(GossipRules rules, WorkerContext& ctx,
                                                const wire::WorkerStart& start);

  void describe(wire::WorkerReady& ready) const override;
  Status onMessage(const wire::AlgoMessage& message) override;
  Result<wire::StateReply> state(bool optimizer) override { return replica_->state(optimizer); }

 private:
  GossipWorker(GossipRules rules, WorkerContext& ctx) : rules_(std::move(rules)), ctx_(ctx) {}

  Status onStep(const decentralized::GossipStep& step);
  Status onShare(const wire::AlgoMessage& m, const decentralized::GossipShare& share);
  // A new graph; `reply`: tell the controller it is in force (not at start: WorkerReady does).
  Status onSetup(const decentralized::GossipSetup& setup, bool reply);
  Status onEvaluate(const decentralized::Evaluate& request);
  // Mixes the round once every in-neighbour's share is here (or, `cut_short`, with what is).
  Status finishRound(bool cut_short);

  struct PendingShare {
    std::vector<torch::Tensor> values;
    double weight = 0;
  };

  GossipRules rules_;
  WorkerContext& ctx_;
  std::unique_ptr<ModelReplica> replica_;
  decentralized::GossipSetup setup_;
  PushSumNode node_;
  // The round in progress: shares sent, waiting for those of `expected`.
  struct Round {
    int64_t iteration = -1;
    bool active = false;
    std::vector<int> expected;
    LocalStep local;
    std::chrono::steady_clock::time_point sent_at;
  } round_;
  // Shares of the current graph by (iteration, sender), kept until their round mixes them (in
  // sender order, so that every run adds in the same order).
  std::map<std::pair<int64_t, int>, PendingShare> pending_;
};

}  // namespace edgerig
