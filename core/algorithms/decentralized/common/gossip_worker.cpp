#include "core/algorithms/decentralized/common/gossip_worker.h"

#include <algorithm>

#include "core/algorithms/algo_message.h"
#include "core/model/tensor_codec.h"

namespace edgerig {

GraphSpec graphSpecOf(const decentralized::GossipSetup& setup) {
  GraphSpec spec;
  spec.kind = setup.graph();
  spec.degree = setup.degree();
  spec.redraw_every = setup.redraw_every();
  spec.seed = setup.graph_seed();
  return spec;
}

Result<LocalStep> GossipStrategy::localStep(const decentralized::GossipStep& step,
                                            WorkerContext& /*ctx*/, ModelReplica& replica) {
  auto local = replica.computeGradients(step.iteration());
  if (!local) return local.status();
  local->compute_s += replica.applyStep(step.iteration());
  return local;
}

// --- DenseGossip -------------------------------------------------------------------------------

bool DenseGossip::isShare(const wire::AlgoMessage& m) const {
  return bodyIs<decentralized::GossipShare>(m);
}

Result<GossipStrategy::Incoming> DenseGossip::decode(const wire::AlgoMessage& m) const {
  auto body = bodyAs<decentralized::GossipShare>(m);
  if (!body) return body.status();
  auto values = tensorsOf(m);
  if (!values) return values.status();
  return incoming(m, *body, std::move(values).value());
}

Result<std::vector<GossipStrategy::Outgoing>> DenseGossip::share(
    const decentralized::GossipStep& step, int me, const MixingWeights& weights,
    WorkerContext& /*ctx*/, ModelReplica& replica, LocalStep& /*local*/) {
  // Keep w_ii of (x, u), send w_ji of them to each out-neighbour j.
  if (!push_sum_) node_.setWeight(step.mix_weight() > 0 ? step.mix_weight() : 1.0);
  node_.numeratorsOf(replica.parameters());
  std::vector<Outgoing> out;
  for (auto& share : node_.share(weights.self(me), weights.outOf(me))) {
    decentralized::GossipShare body;
    body.set_iteration(step.iteration());
    body.set_graph_epoch(step.graph_epoch());
    body.set_weight(share.weight);
    Outgoing o;
    o.to = share.to;
    o.message = algoMessage(bridge::TrafficKind::kGossip, body);
    for (const auto& t : share.values) appendTensor(o.message, t);
    out.push_back(std::move(o));
  }
  return out;
}

Status DenseGossip::absorb(const Incoming& share, ModelReplica& replica) {
  // A late share before this device's first round: its numerators are its model.
  if (node_.numerators().empty()) node_.numeratorsOf(replica.parameters());
  return node_.absorb(share.tensors, share.weight);
}

// --- GossipWorker: the round engine --------------------------------------------------------------

Result<std::unique_ptr<Worker>> GossipWorker::create(GossipRules rules,
                                                     std::unique_ptr<GossipStrategy> strategy,
                                                     WorkerContext& ctx,
                                                     const wire::WorkerStart& start) {
  std::unique_ptr<GossipWorker> w(new GossipWorker(std::move(rules), std::move(strategy), ctx));
  decentralized::GossipSetup setup;
  if (auto st = w->begin(w->rules_.algorithm, start, setup); !st) return st;
  if (auto st = w->strategy_->start(ctx, *w->replica_); !st) return st;
  if (auto st = w->onSetup(setup, /*reply=*/false); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

Result<std::unique_ptr<Worker>> GossipWorker::create(GossipRules rules, WorkerContext& ctx,
                                                     const wire::WorkerStart& start) {
  auto strategy = std::make_unique<DenseGossip>(rules.push_sum);
  return create(std::move(rules), std::move(strategy), ctx, start);
}

Status GossipWorker::onMessage(const wire::AlgoMessage& m) {
  if (strategy_->isShare(m)) return onShare(m);
  if (bodyIs<decentralized::GossipStep>(m)) {
    auto s = bodyAs<decentralized::GossipStep>(m);
    return s ? onStep(*s) : s.status();
  }
  if (bodyIs<decentralized::GossipSetup>(m)) {
    auto s = bodyAs<decentralized::GossipSetup>(m);
    return s ? onSetup(*s, /*reply=*/true) : s.status();
  }
  if (bodyIs<decentralized::Evaluate>(m)) return onEvaluate(m);
  return invalidArgument(rules_.algorithm + " worker got a " + bodyName(m) +
                         " message it does not take");
}

Status GossipWorker::onStep(const decentralized::GossipStep& step) {
  if (step.graph_epoch() != setup_.graph_epoch()) {
    return invalidArgument("step " + std::to_string(step.iteration()) + " for graph epoch " +
                           std::to_string(step.graph_epoch()) + ", this device is in epoch " +
                           std::to_string(setup_.graph_epoch()));
  }
  if (round_.active) {
    return invalidArgument("step " + std::to_string(step.iteration()) + " before round " +
                           std::to_string(round_.iteration) + " was mixed");
  }
  ctx_.setIteration(step.iteration());
  const std::vector<int> members(setup_.members().begin(), setup_.members().end());
  auto graph = graphAt(graphSpecOf(setup_), members, step.iteration());
  if (!graph) return graph.status();

  // The local step, on z (the model's parameters), then the exchange.
  auto local = strategy_->localStep(step, ctx_, *replica_);
  if (!local) return local.status();
  const int me = ctx_.device();
  round_.exchange = !step.skip_exchange();
  if (round_.exchange) {
    auto shares = strategy_->share(step, me, rules_.weights(*graph), ctx_, *replica_, *local);
    if (!shares) return shares.status();
    for (auto& s : *shares) ctx_.send(s.to, std::move(s.message));
  }
  round_.iteration = step.iteration();
  round_.active = true;
  round_.expected = round_.exchange ? graph->inOf(me) : std::vector<int>{};
  round_.local = *local;
  round_.sent_at = std::chrono::steady_clock::now();
  return finishRound(/*cut_short=*/false);
}

Status GossipWorker::onShare(const wire::AlgoMessage& m) {
  auto share = strategy_->decode(m);
  if (!share) return share.status();
  if (share->graph_epoch != setup_.graph_epoch()) {
    // Sent over a graph that has changed since (a lost device): its round is over here.
    if (!strategy_->keepsLateShares() || share->graph_epoch > setup_.graph_epoch()) {
      return Status::ok();
    }
    if (auto st = strategy_->absorb(*share, *replica_); !st) return st;
    if (!round_.active) strategy_->debias(*replica_);
    return Status::ok();
  }
  // An honest peer is at most one round ahead (the controller starts a round once every device
  // has finished the last), so at most two rounds' shares wait here. Anything else is a broken or
  // hostile peer, refused so that memory stays bounded.
  const auto& members = setup_.members();
  if (std::find(members.begin(), members.end(), m.from()) == members.end()) {
    return invalidArgument("a gossip share from device " + std::to_string(m.from()) +
                           ", which is not a member of this graph");
  }
  if (share->iteration < round_.iteration) return Status::ok();  // its round is over: moot
  if (pending_.size() >= 2 * static_cast<size_t>(members.size()) &&
      !pending_.count({share->iteration, m.from()})) {
    return invalidArgument("device " + std::to_string(m.from()) + " sent a share of iteration " +
                           std::to_string(share->iteration) + " while " +
                           std::to_string(pending_.size()) +
                           " shares already wait (two rounds' worth): it is ahead of every round");
  }
  pending_[{share->iteration, m.from()}] = std::move(share).value();
  return finishRound(/*cut_short=*/false);
}

Status GossipWorker::finishRound(bool cut_short) {
  if (!round_.active) return Status::ok();
  if (!cut_short) {
    for (int from : round_.expected) {
      if (!pending_.count({round_.iteration, from})) return Status::ok();
    }
  }
  for (auto it = pending_.lower_bound({round_.iteration, INT32_MIN});
       it != pending_.end() && it->first.first == round_.iteration;) {
    if (auto st = strategy_->absorb(it->second, *replica_); !st) return st;
    it = pending_.erase(it);
  }
  if (round_.exchange) strategy_->endRound(*replica_);
  round_.active = false;
  decentralized::GossipDone done;
  done.set_iteration(round_.iteration);
  done.set_loss_sum(round_.local.loss_sum);
  done.set_correct(round_.local.correct);
  done.set_samples(round_.local.samples);
  done.set_compute_s(round_.local.compute_s);
  done.set_comm_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - round_.sent_at).count());
  done.set_mixed(!cut_short);
  strategy_->report(done);
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  return Status::ok();
}

Status GossipWorker::onSetup(const decentralized::GossipSetup& setup, bool reply) {
  const auto& members = setup.members();
  if (std::find(members.begin(), members.end(), ctx_.device()) == members.end()) {
    return invalidArgument(rules_.algorithm + " graph without this device (" +
                           std::to_string(ctx_.device()) + ")");
  }
  // A round of the old graph that is still waiting mixes what has arrived.
  if (auto st = finishRound(/*cut_short=*/true); !st) return st;
  // Shares of the old graph for later rounds: push-sum keeps their mass, the others drop them.
  if (strategy_->keepsLateShares() && !pending_.empty()) {
    for (auto& [key, share] : pending_) {
      if (auto st = strategy_->absorb(share, *replica_); !st) return st;
    }
    strategy_->debias(*replica_);
  }
  pending_.clear();
  setup_ = setup;
  if (!reply) return Status::ok();
  decentralized::GossipReady ready;
  ready.set_graph_epoch(setup_.graph_epoch());
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, ready));
  return Status::ok();
}

}  // namespace edgerig
