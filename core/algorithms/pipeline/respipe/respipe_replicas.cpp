// respipe's replicas and take-over, the agent side (RespipeStageWorker, respipe_worker.h): the
// copies of this stage's layers sent to the r stages before it every T mini-batches (with r = 0,
// to the controller as a checkpoint), the replica of the next stage loaded from the store, the
// controller's FetchReplica, and the take-over of the next stage's layers after F consecutive
// misses or when the controller says it was lost.
#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/respipe/respipe_worker.h"
#include "core/model/tensor_codec.h"

namespace edgerig {

std::vector<std::string> RespipeStageWorker::layerNames(int first, int last) const {
  std::vector<std::string> names;
  for (int l = first; l < last; ++l) names.push_back(chain().infos()[static_cast<size_t>(l)].name);
  return names;
}

void RespipeStageWorker::sendReplicas(int64_t mini_batches) {
  // r = 0: no stage holds another's layers, so every stage (the first too) checkpoints its
  // weights and momentum to the controller instead, from which a lost stage is recovered through
  // a re-plan (our design, docs/design.md respipe 5). The starting weights are the controller's
  // own (the seed makes them), so nothing is sent at 0.
  const bool checkpoint = redundancy_ == 0;
  if (checkpoint ? mini_batches == 0 : stage() == 0) return;
  pipeline::Replica body;
  body.set_iteration(mini_batches);
  body.set_stage(stage());
  body.set_held(true);
  for (const auto& n : layerNames(module()->first(), module()->last())) body.add_layers(n);
  // Weights and momentum (our design: a stage that takes over trains on with the owner's
  // momentum, and a replica stepped in the owner's place takes the same step).
  ModelState state = stateOf(*module());
  for (auto& t : momentumOf(optimizer(), *module())) state.push_back(std::move(t));
  for (const auto& [name, t] : state) body.add_names(name);
  if (checkpoint) {
    wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kReplica, body);
    for (const auto& [name, t] : state) appendTensor(msg, t);
    ctx().sendToController(std::move(msg));
    return;
  }
  std::set<int> sent;
  for (int back = 1; back <= redundancy_ && stage() - back >= 0; ++back) {
    const int d = runnerOf(stage() - back);
    if (d == ctx().device() || !sent.insert(d).second) continue;
    wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kReplica, body);
    for (const auto& [name, t] : state) appendTensor(msg, t);
    ctx().send(d, std::move(msg));
  }
}

Status RespipeStageWorker::onReplica(const wire::AlgoMessage& msg, const pipeline::Replica& r) {
  if (r.stage() <= span_end_) return Status::ok();  // layers this device trains itself now
  auto tensors = tensorsOf(msg);
  if (!tensors) return tensors.status();
  if (static_cast<int>(tensors->size()) != r.names_size()) {
    return invalidArgument("a replica from device " + std::to_string(msg.from()) + " names " +
                           std::to_string(r.names_size()) + " tensors and carries " +
                           std::to_string(tensors->size()));
  }
  ModelState state;
  for (int i = 0; i < r.names_size(); ++i) state.emplace_back(r.names(i), (*tensors)[i]);
  store_.put(r.iteration(), {r.layers().begin(), r.layers().end()}, state);
  ensureReplica();
  return Status::ok();
}

bool RespipeStageWorker::ensureReplica() {
  const int s = span_end_ + 1;
  if (s >= numStages()) return false;
  const auto names = layerNames(firstLayerOf(s), lastLayerOf(s));
  for (const auto& n : names) {
    if (!store_.holds(n)) return false;
  }
  int64_t newest = -1;
  for (const auto& n : names) {
    newest = newest < 0 ? store_.iterationOf(n) : std::min(newest, store_.iterationOf(n));
  }
  const bool current = replica_ && replica_stage_ == s;
  if (current && (newest <= replica_iteration_ || routed_in_flight_ > 0)) return true;
  auto copy = store_.take(names);
  if (!copy) return false;
  ModelState weights, momentum;
  for (auto& [name, t] : *copy)
    (name.ends_with(".momentum") ? momentum : weights).emplace_back(name, t);
  try {
    if (!current) {
      auto module = makeModule(firstLayerOf(s), lastLayerOf(s));
      if (!module) return false;
      replica_ = *module;
      replica_stage_ = s;
    }
    if (auto st = loadState(*replica_, weights); !st) {
      ctx().log()->error("loading the replica of stage {}: {}", s, st.message());
      return false;
    }
    replica_optimizer_ = makeOptimizer(replica_);
    if (!momentum.empty()) {
      if (auto st = loadMomentum(*replica_optimizer_, *replica_, momentum); !st) {
        ctx().log()->error("loading the replica's momentum of stage {}: {}", s, st.message());
      }
    }
    replica_iteration_ = newest;
  } catch (const std::exception& e) {
    ctx().log()->error("building the replica of stage {}: {}", s, e.what());
    return false;
  }
  return true;
}

Status RespipeStageWorker::onFetchReplica(const pipeline::FetchReplica& f) {
  const std::vector<std::string> layers(f.layers().begin(), f.layers().end());
  pipeline::Replica body;
  body.set_stage(stage());
  *body.mutable_layers() = f.layers();
  // The replica as this stage would route with it now (stepped in the owner's place, maybe),
  // with its momentum: the controller restarts the pipeline from it when the owner was lost in a
  // way routing cannot cover (RespipeCoordinator::recoverLost).
  ensureReplica();
  ModelState state;
  if (replica_) {
    ModelState all = stateOf(*replica_);
    if (replica_optimizer_) {
      for (auto& t : momentumOf(*replica_optimizer_, *replica_)) all.push_back(std::move(t));
    }
    for (auto& t : all) {
      if (std::find(layers.begin(), layers.end(), layerOfTensor(t.first)) != layers.end())
        state.push_back(std::move(t));
    }
  }
  // Held: the loaded replica covers every layer asked for (a layer without parameters has none).
  bool held = replica_ && replica_stage_ >= 0 && !layers.empty();
  if (held) {
    const auto covered = layerNames(firstLayerOf(replica_stage_), lastLayerOf(replica_stage_));
    for (const auto& l : layers) {
      held = held && std::find(covered.begin(), covered.end(), l) != covered.end();
    }
  }
  if (held) {
    body.set_iteration(replica_iteration_);
    body.set_held(true);
  } else if (!layers.empty()) {
    // Layers the next stage took over from the one after it: their newest copies, as it sent
    // them (it replicates its whole slice), from the store.
    if (auto copy = store_.take(layers)) {
      state = std::move(copy).value();
      int64_t oldest = -1;
      for (const auto& l : layers) {
        oldest = oldest < 0 ? store_.iterationOf(l) : std::min(oldest, store_.iterationOf(l));
      }
      body.set_iteration(oldest);
      body.set_held(true);
    }
  }
  for (const auto& [name, t] : state) body.add_names(name);
  wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kReplica, body);
  for (const auto& [name, t] : state) appendTensor(msg, t);
  ctx().sendToController(std::move(msg));
  return Status::ok();
}

int RespipeStageWorker::runnerOf(int s) const {
  // A stage taken over runs where its taker does (which may itself have been taken over).
  for (auto it = taken_by_.find(s); it != taken_by_.end(); it = taken_by_.find(s)) {
    int taker = -1;
    for (int q = 0; q < s; ++q) taker = deviceOfStage(q) == it->second ? q : taker;
    if (taker < 0) return it->second;
    s = taker;
  }
  return deviceOfStage(s);
}

void RespipeStageWorker::takeOver() {
  takeover_due_ = false;
  const int taken = span_end_ + 1;
  if (!ensureReplica()) return;
  ModelState momentum = momentumOf(optimizer(), *module());
  for (auto& t : momentumOf(*replica_optimizer_, *replica_)) momentum.push_back(std::move(t));
  // The merged slice shares its blocks with the chain: its own layers keep their weights and the
  // taken layers are the replica's.
  auto merged = makeModule(firstLayerOf(stage()), lastLayerOf(taken));
  if (!merged) {
    ctx().log()->error("taking over stage {}: {}", taken, merged.status().message());
    return;
  }
  auto opt = makeOptimizer(*merged);
  if (auto st = loadMomentum(*opt, **merged, momentum); !st) {
    ctx().log()->error("taking over stage {}'s momentum: {}", taken, st.message());
  }
  const int misses = consecutive_misses_;
  const bool lost = successor_lost_;
  const int64_t replica_seen = replica_iteration_;
  reassign(*merged, std::move(opt));
  span_end_ = taken;
  replica_ = nullptr;
  replica_optimizer_.reset();
  replica_stage_ = -1;
  replica_iteration_ = -1;
  consecutive_misses_ = 0;
  last_answer_ = std::chrono::steady_clock::now();  // a new next stage: nothing missed yet
  outcomes_.clear();
  bypass_ = false;
  probes_.clear();
  probes_on_time_.clear();
  good_probe_iterations_ = 0;
  probe_iterations_needed_ = 1;
  bypassed_since_flush_ = false;
  bypass_ended_at_ = -1;
  successor_lost_ = false;
  ack_ms_.clear();  // the next stage is another one now
  on_time_run_ = 0;
  int64_t next = finished_.empty() ? 0 : *finished_.rbegin() + 1;
  pipeline::TakeOver t;
  t.set_stage(stage());
  t.set_taken(taken);
  t.set_misses(misses);
  t.set_iteration(next);
  t.set_replica_iteration(replica_seen);
  t.set_lost(lost);
  ctx().sendToController(algoMessage(bridge::TrafficKind::kControl, t));
  // The stages whose replicas the taken one kept send them here from now on (not to the device
  // that is gone: its link would queue them until it comes back).
  for (int s = taken + 1; s <= taken + redundancy_ && s < numStages(); ++s) {
    if (deviceOfStage(s) != ctx().device())
      ctx().send(deviceOfStage(s), algoMessage(bridge::TrafficKind::kControl, t));
  }
  ctx().log()->warn("took stage {}'s layers over {} ({} missed deadlines)", taken,
                    lost ? "when it was lost" : "after missed deadlines", misses);
  ensureReplica();
}

}  // namespace edgerig
