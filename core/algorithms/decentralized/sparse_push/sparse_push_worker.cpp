#include "core/algorithms/decentralized/sparse_push/sparse_push_worker.h"

#include <algorithm>

#include "core/algorithms/algo_message.h"
#include "core/data/random_stream.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

// random-k's stream, apart from the data's and the graph's drawn from the same seed.
constexpr uint64_t kRandomKStream = 0x72616e646b4bULL;  // "randkK"

}  // namespace

SparsePushNode::Options sparsePushOptions(const AlgorithmParams& params, uint64_t seed,
                                          int device) {
  SparsePushNode::Options o;
  o.k = params.getDouble("k");
  o.gamma = params.getDouble("gamma");
  o.compression =
      params.getString("compression") == "random-k" ? Compression::kRandomK : Compression::kTopK;
  o.skew = params.getDouble("skewCompensation");
  o.seed = mixSeed(mixSeed(seed, kRandomKStream), static_cast<uint64_t>(device));
  return o;
}

Result<std::unique_ptr<Worker>> SparsePushWorker::create(GossipRules rules, WorkerContext& ctx,
                                                         const wire::WorkerStart& start) {
  std::unique_ptr<SparsePushWorker> w(new SparsePushWorker(std::move(rules), ctx));
  decentralized::GossipSetup setup;
  if (!start.setup().UnpackTo(&setup)) {
    return invalidArgument(w->rules_.algorithm + " worker start without a GossipSetup (got " +
                           start.setup().type_url() + ")");
  }
  auto replica = ModelReplica::create(ctx, start);
  if (!replica) return replica.status();
  w->replica_ = std::move(replica).value();
  w->node_.emplace(sparsePushOptions(ctx.params(), ctx.seed(), ctx.device()),
                   w->replica_->parameters());
  if (auto st = w->onSetup(setup, /*reply=*/false); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

void SparsePushWorker::describe(wire::WorkerReady& ready) const {
  ready.set_parameters(replica_->parameterCount());
  ready.set_train_size((*ctx_.trainSet())->size());
  ready.set_test_size((*ctx_.testSet())->size());
}

Status SparsePushWorker::onMessage(const wire::AlgoMessage& m) {
  if (bodyIs<decentralized::SparseShare>(m)) {
    auto s = bodyAs<decentralized::SparseShare>(m);
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

Status SparsePushWorker::onStep(const decentralized::GossipStep& step) {
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

  auto local = replica_->computeGradients(step.iteration());
  if (!local) return local.status();
  local->compute_s += replica_->applyStep();

  const MixingWeights weights = rules_.weights(*graph);
  const int me = ctx_.device();
  node_->numeratorsOf(replica_->parameters());
  round_.sent_bytes = 0;
  round_.dense_bytes = 0;
  // Compressing is compute: it is charged to the meter like the local step.
  std::vector<SparsePushNode::Message> shares;
  local->compute_s += timedCompute(
      ctx_.meter(), [&] { shares = node_->share(step.iteration(), weights.outOf(me)); });
  for (auto& share : shares) {
    decentralized::SparseShare body;
    body.set_iteration(step.iteration());
    body.set_graph_epoch(setup_.graph_epoch());
    body.set_weight(share.weight);
    wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
    appendTensor(m, share.delta.indices);
    appendTensor(m, share.delta.values);
    round_.sent_bytes += static_cast<int64_t>(m.ByteSizeLong());
    round_.dense_bytes += node_->compressor().denseSize() * 4;
    ctx_.send(share.to, std::move(m));
  }
  round_.iteration = step.iteration();
  round_.active = true;
  round_.expected = graph->inOf(me);
  round_.local = *local;
  round_.sent_at = std::chrono::steady_clock::now();
  return finishRound(/*cut_short=*/false);
}

Result<SparsePushWorker::PendingShare> SparsePushWorker::decode(
    const wire::AlgoMessage& m, const decentralized::SparseShare& share) {
  auto tensors = tensorsOf(m);  // owned: it may wait for its round
  if (!tensors) return tensors.status();
  if (tensors->size() != 2 || (*tensors)[0].scalar_type() != torch::kInt32 ||
      (*tensors)[1].scalar_type() != torch::kFloat32) {
    return invalidArgument("a sparse-push share from device " + std::to_string(m.from()) +
                           " without its int32 indices and float32 values");
  }
  PendingShare p;
  p.delta.indices = (*tensors)[0];
  p.delta.values = (*tensors)[1];
  p.weight = share.weight();
  return p;
}

Status SparsePushWorker::onShare(const wire::AlgoMessage& m,
                                 const decentralized::SparseShare& share) {
  if (share.graph_epoch() > setup_.graph_epoch()) return Status::ok();
  auto p = decode(m, share);
  if (!p) return p.status();
  if (share.graph_epoch() < setup_.graph_epoch()) {
    // Sent over a graph that has changed since (a lost device): push-sum keeps its mass, and the
    // edge's copy must take its q at both ends.
    if (auto st = node_->absorb(m.from(), p->delta, p->weight); !st) return st;
    if (!round_.active) node_->debias(replica_->parameters());
    return Status::ok();
  }
  pending_[{share.iteration(), m.from()}] = std::move(p).value();
  return finishRound(/*cut_short=*/false);
}

Status SparsePushWorker::finishRound(bool cut_short) {
  if (!round_.active) return Status::ok();
  if (!cut_short) {
    for (int from : round_.expected) {
      if (!pending_.count({round_.iteration, from})) return Status::ok();
    }
  }
  for (auto it = pending_.lower_bound({round_.iteration, INT32_MIN});
       it != pending_.end() && it->first.first == round_.iteration;) {
    const auto& s = it->second;
    if (auto st = node_->absorb(it->first.second, s.delta, s.weight); !st) return st;
    it = pending_.erase(it);
  }
  node_->endRound();
  node_->debias(replica_->parameters());
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
  done.set_weight(node_->weight());
  done.set_sent_bytes(round_.sent_bytes);
  done.set_dense_bytes(round_.dense_bytes);
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  return Status::ok();
}

Status SparsePushWorker::onSetup(const decentralized::GossipSetup& setup, bool reply) {
  const auto& members = setup.members();
  if (std::find(members.begin(), members.end(), ctx_.device()) == members.end()) {
    return invalidArgument(rules_.algorithm + " graph without this device (" +
                           std::to_string(ctx_.device()) + ")");
  }
  if (auto st = finishRound(/*cut_short=*/true); !st) return st;
  // Shares of the old graph for later rounds: their mass and their q are kept.
  for (auto& [key, share] : pending_) {
    if (auto st = node_->absorb(key.second, share.delta, share.weight); !st) {
      return st;
    }
  }
  if (!pending_.empty()) node_->debias(replica_->parameters());
  pending_.clear();
  setup_ = setup;
  if (!reply) return Status::ok();
  decentralized::GossipReady ready;
  ready.set_graph_epoch(setup_.graph_epoch());
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, ready));
  return Status::ok();
}

Status SparsePushWorker::onEvaluate(const decentralized::Evaluate& request) {
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
