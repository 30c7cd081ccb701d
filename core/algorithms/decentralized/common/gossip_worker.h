// The agent side of every gossip algorithm (dpsgd, sgp, sparse-push, edgegossip): one round
// engine and, for what differs, a small strategy. On each GossipStep the engine has the strategy
// take a local step on the device's own shard, then one exchange over the round's graph
// (computed here from the GossipSetup and the round, as the coordinator computes it): the
// strategy's shares go straight to the out-neighbours, and once every in-neighbour's share has
// arrived the strategy absorbs them (in sender order) and ends the round, and the engine reports
// GossipDone. A new GossipSetup (a device was lost) cuts a round short: the device mixes what
// arrived. Shares of a graph that has changed are kept (push-sum: nothing sent is lost) or
// dropped (plain gossip: their round is over), as the strategy says.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/algorithms/decentralized/common/decentralized_worker.h"
#include "core/algorithms/decentralized/common/push_sum.h"
#include "core/algorithms/decentralized/graphs/mixing_weights.h"

namespace edgerig {

// What sets one gossip algorithm's coordinator and engine apart.
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

// What a gossip algorithm does with its model in a round: the engine calls these in order —
// localStep, share, then absorb for each share that arrives (and for late ones), endRound.
class GossipStrategy {
 public:
  // A share as it arrived (tensors owned: it may wait for its round).
  struct Incoming {
    int from = -1;
    int64_t iteration = 0;
    uint32_t graph_epoch = 0;
    double weight = 0;
    std::vector<torch::Tensor> tensors;
  };
  struct Outgoing {
    int to = -1;
    wire::AlgoMessage message;
  };
  // A share from its message `m`, its body (iteration, graph_epoch, weight) and its tensors.
  template <typename Body>
  static Incoming incoming(const wire::AlgoMessage& m, const Body& body,
                           std::vector<torch::Tensor> tensors) {
    Incoming in;
    in.from = m.from();
    in.iteration = body.iteration();
    in.graph_epoch = body.graph_epoch();
    in.weight = body.weight();
    in.tensors = std::move(tensors);
    return in;
  }

  virtual ~GossipStrategy() = default;
  // Once, when the replica exists.
  virtual Status start(WorkerContext& /*ctx*/, ModelReplica& /*replica*/) { return Status::ok(); }
  // The round's local step (default: the run's batch size, one SGD step).
  virtual Result<LocalStep> localStep(const decentralized::GossipStep& step, WorkerContext& ctx,
                                      ModelReplica& replica);
  // Whether `m` is this algorithm's share, and what it carries.
  virtual bool isShare(const wire::AlgoMessage& m) const = 0;
  virtual Result<Incoming> decode(const wire::AlgoMessage& m) const = 0;
  // The round's shares to the out-neighbours of `me` after the local step (the sender's half of
  // the mixing); compute it spends is added to `local`.
  virtual Result<std::vector<Outgoing>> share(const decentralized::GossipStep& step, int me,
                                              const MixingWeights& weights, WorkerContext& ctx,
                                              ModelReplica& replica, LocalStep& local) = 0;
  // Adds a share: of the round in progress, or a late one of a changed graph (keepsLateShares).
  virtual Status absorb(const Incoming& share, ModelReplica& replica) = 0;
  // Every share of the round is in (or the round was cut short): the model becomes the mix.
  virtual void endRound(ModelReplica& replica) = 0;
  // After late shares were absorbed outside a round: the model becomes the mix.
  virtual void debias(ModelReplica& replica) = 0;
  virtual bool keepsLateShares() const = 0;
  // The push-sum weight and whatever else the round's GossipDone reports.
  virtual void report(decentralized::GossipDone& done) const = 0;
};

// dpsgd's and sgp's shares: the whole model (push_sum.h), GossipShare. With push_sum off, u
// starts each round at the step's mix_weight, 1 when unset: plain gossip averaging (dpsgd), or
// averaging in which each model counts in proportion to its sender's weight (edgegossip, which
// sets mix_weight, puts that weight on its gradient instead and shares with u = 1).
class DenseGossip : public GossipStrategy {
 public:
  explicit DenseGossip(bool push_sum) : push_sum_(push_sum) {}

  bool isShare(const wire::AlgoMessage& m) const override;
  Result<Incoming> decode(const wire::AlgoMessage& m) const override;
  Result<std::vector<Outgoing>> share(const decentralized::GossipStep& step, int me,
                                      const MixingWeights& weights, WorkerContext& ctx,
                                      ModelReplica& replica, LocalStep& local) override;
  Status absorb(const Incoming& share, ModelReplica& replica) override;
  void endRound(ModelReplica& replica) override { debias(replica); }
  void debias(ModelReplica& replica) override { node_.debias(replica.parameters()); }
  bool keepsLateShares() const override { return push_sum_; }
  void report(decentralized::GossipDone& done) const override { done.set_weight(node_.weight()); }

 private:
  bool push_sum_;
  PushSumNode node_;
};

class GossipWorker : public DecentralizedWorker {
 public:
  // For a registry entry: `rules` and the strategy fixed, the rest from the WorkerStart.
  static Result<std::unique_ptr<Worker>> create(GossipRules rules,
                                                std::unique_ptr<GossipStrategy> strategy,
                                                WorkerContext& ctx, const wire::WorkerStart& start);
  // dpsgd and sgp: DenseGossip.
  static Result<std::unique_ptr<Worker>> create(GossipRules rules, WorkerContext& ctx,
                                                const wire::WorkerStart& start);

  Status onMessage(const wire::AlgoMessage& message) override;

 private:
  GossipWorker(GossipRules rules, std::unique_ptr<GossipStrategy> strategy, WorkerContext& ctx)
      : DecentralizedWorker(ctx), rules_(std::move(rules)), strategy_(std::move(strategy)) {}

  Status onStep(const decentralized::GossipStep& step);
  Status onShare(const wire::AlgoMessage& m);
  // A new graph; `reply`: tell the controller it is in force (not at start: WorkerReady does).
  Status onSetup(const decentralized::GossipSetup& setup, bool reply);
  // Mixes the round once every in-neighbour's share is here (or, `cut_short`, with what is).
  Status finishRound(bool cut_short);

  GossipRules rules_;
  std::unique_ptr<GossipStrategy> strategy_;
  decentralized::GossipSetup setup_;
  // The round in progress: shares sent, waiting for those of `expected`.
  struct Round {
    int64_t iteration = -1;
    bool active = false;
    bool exchange = true;  // false: a local step only (GossipStep.skip_exchange)
    std::vector<int> expected;
    LocalStep local;
    std::chrono::steady_clock::time_point sent_at;
  } round_;
  // Shares of the current graph by (iteration, sender), kept until their round mixes them (in
  // sender order, so that every run adds in the same order).
  std::map<std::pair<int64_t, int>, GossipStrategy::Incoming> pending_;
};

}  // namespace edgerig
