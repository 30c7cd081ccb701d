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

Result<std::unique_ptr<Worker>> GossipWorker::create(GossipRules rules, WorkerContext& ctx,
                                                     const wire::WorkerStart& start) {
  std::unique_ptr<GossipWorker> w(new GossipWorker(std::move(rules), ctx));
  decentralized::GossipSetup setup;
  if (!start.setup().UnpackTo(&setup)) {
    return invalidArgument(w->rules_.algorithm + " worker start without a GossipSetup (got " +
                           start.setup().type_url() + ")");
  }
  auto replica = ModelReplica::create(ctx, start);
  if (!replica) return replica.status();
  w->replica_ = std::move(replica).value();
  if (auto st = w->onSetup(setup, /*reply=*/false); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

void GossipWorker::describe(wire::WorkerReady& ready) const {
  ready.set_parameters(replica_->parameterCount());
  ready.set_train_size((*ctx_.trainSet())->size());
  ready.set_test_size((*ctx_.testSet())->size());
}

Status GossipWorker::onMessage(const wire::AlgoMessage& m) {
  if (bodyIs<decentralized::GossipShare>(m)) {
    auto s = bodyAs<decentralized::GossipShare>(m);
    return s ? onShare(m, *s) : s.status();
  }
  if (bodyIs<decentralized::GossipStep>(m)) {
    auto s = bodyAs<decentralized::GossipStep>(m);
    return s ? onStep(*s) : s.status();
  }
  if (bodyIs<decentralized::GossipSetup>(m)) {
    auto s = bodyAs<decentralized::GossipSetup>(m);
    return s ? onSetup(*s, /*reply=*/true) : s.status();
  }
  if (bodyIs<decentralized::Evaluate>(m)) {
    auto e = bodyAs<decentralized::Evaluate>(m);
    return e ? onEvaluate(*e) : e.status();
  }
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

  // The local step, on z (the model's parameters).
  auto local = replica_->computeGradients(step.iteration());
  if (!local) return local.status();
  local->compute_s += replica_->applyStep();

  // Then the exchange: keep w_ii of (x, u), send w_ji of them to each out-neighbour j.
  const MixingWeights weights = rules_.weights(*graph);
  const int me = ctx_.device();
  if (!rules_.push_sum) node_.setWeight(1.0);
  node_.numeratorsOf(replica_->parameters());
  for (auto& share : node_.share(weights.self(me), weights.outOf(me))) {
    decentralized::GossipShare body;
    body.set_iteration(step.iteration());
    body.set_graph_epoch(setup_.graph_epoch());
    body.set_weight(share.weight);
    wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
    for (const auto& t : share.values) appendTensor(m, t);
    ctx_.send(share.to, std::move(m));
  }
  round_.iteration = step.iteration();
  round_.active = true;
  round_.expected = graph->inOf(me);
  round_.local = *local;
  round_.sent_at = std::chrono::steady_clock::now();
  return finishRound(/*cut_short=*/false);
}

Status GossipWorker::onShare(const wire::AlgoMessage& m, const decentralized::GossipShare& share) {
  if (share.graph_epoch() != setup_.graph_epoch()) {
    // Sent over a graph that has changed since (a lost device): its round is over here.
    if (!rules_.push_sum || share.graph_epoch() > setup_.graph_epoch()) return Status::ok();
    auto values = tensorViewsOf(m);
    if (!values) return values.status();
    if (node_.numerators().empty()) node_.numeratorsOf(replica_->parameters());
    if (auto st = node_.absorb(*values, share.weight()); !st) return st;
    if (!round_.active) node_.debias(replica_->parameters());
    return Status::ok();
  }
  auto values = tensorsOf(m);  // owned: it may wait for its round
  if (!values) return values.status();
  pending_[{share.iteration(), m.from()}] = PendingShare{std::move(values).value(), share.weight()};
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
    if (auto st = node_.absorb(it->second.values, it->second.weight); !st) return st;
    it = pending_.erase(it);
  }
  node_.debias(replica_->parameters());
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
  done.set_weight(node_.weight());
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
  for (auto& [key, share] : pending_) {
    if (rules_.push_sum) {
      if (node_.numerators().empty()) node_.numeratorsOf(replica_->parameters());
      if (auto st = node_.absorb(share.values, share.weight); !st) return st;
    }
  }
  if (rules_.push_sum && !pending_.empty()) node_.debias(replica_->parameters());
  pending_.clear();
  setup_ = setup;
  if (!reply) return Status::ok();
  decentralized::GossipReady ready;
  ready.set_graph_epoch(setup_.graph_epoch());
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, ready));
  return Status::ok();
}

Status GossipWorker::onEvaluate(const decentralized::Evaluate& request) {
  auto counts = replica_->evaluate(request.offset(), request.samples());
  if (!counts) return counts.status();
  decentralized::EvalDone done;
  done.set_eval_id(request.eval_id());
  done.set_loss_sum(counts->loss_sum);
  done.set_correct(counts->correct);
  done.set_samples(counts->samples);
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  return Status::ok();
}

}  // namespace edgerig
