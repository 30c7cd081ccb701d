#include "core/algorithms/pipeline/ftpipehd/ftpipehd_worker.h"

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/ftpipehd/live_plan.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

Result<StagePlan> planOf(const google::protobuf::RepeatedField<int32_t>& boundaries,
                         int num_stages) {
  StagePlan p;
  p.boundaries.assign(boundaries.begin(), boundaries.end());
  if (p.numStages() != num_stages || p.boundaries.front() != 0) {
    return invalidArgument("migration plan has " + std::to_string(p.numStages()) +
                           " stages; the pipeline has " + std::to_string(num_stages));
  }
  for (int s = 0; s < p.numStages(); ++s) {
    if (p.first(s) >= p.last(s)) {
      return invalidArgument("migration plan gives stage " + std::to_string(s) + " no layers");
    }
  }
  return p;
}

// True when tensor `name` ("conv1.0.weight", "fc1.0.weight.momentum") belongs to layers
// [first, last) of the chain.
bool inLayers(const std::string& name, const LayerChain& chain, int first, int last) {
  const std::string layer = name.substr(0, name.find('.'));
  for (int l = first; l < last; ++l) {
    if (chain.infos()[static_cast<size_t>(l)].name == layer) return true;
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<Worker>> FtpipehdStageWorker::create(WorkerContext& ctx,
                                                            const wire::WorkerStart& start) {
  std::unique_ptr<FtpipehdStageWorker> w(new FtpipehdStageWorker(ctx));
  if (auto st = w->init(start); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

Status FtpipehdStageWorker::onOtherMessage(const wire::AlgoMessage& m) {
  if (bodyIs<pipeline::MigratePrepare>(m)) {
    auto p = bodyAs<pipeline::MigratePrepare>(m);
    if (!p) return p.status();
    return onPrepare(*p);
  }
  if (bodyIs<pipeline::FetchLayers>(m)) {
    auto f = bodyAs<pipeline::FetchLayers>(m);
    if (!f) return f.status();
    return onFetch(m, *f);
  }
  if (bodyIs<pipeline::LayerState>(m)) {
    auto s = bodyAs<pipeline::LayerState>(m);
    if (!s) return s.status();
    return onLayerState(m, *s);
  }
  if (bodyIs<pipeline::MigrateCommit>(m)) {
    auto c = bodyAs<pipeline::MigrateCommit>(m);
    if (!c) return c.status();
    return onCommit(*c);
  }
  if (bodyIs<pipeline::MigrateAbort>(m)) {
    auto a = bodyAs<pipeline::MigrateAbort>(m);
    if (!a) return a.status();
    if (prepared_ && prepared_->migration == a->migration()) prepared_.reset();
    return Status::ok();
  }
  if (bodyIs<pipeline::Replicate>(m)) {
    auto r = bodyAs<pipeline::Replicate>(m);
    if (!r) return r.status();
    return onReplicate(*r);
  }
  if (bodyIs<pipeline::Replica>(m)) {
    auto r = bodyAs<pipeline::Replica>(m);
    if (!r) return r.status();
    return onReplica(m, *r);
  }
  if (bodyIs<pipeline::FetchReplica>(m)) {
    auto f = bodyAs<pipeline::FetchReplica>(m);
    if (!f) return f.status();
    return onFetchReplica(*f);
  }
  if (bodyIs<pipeline::FetchSnapshot>(m)) {
    auto f = bodyAs<pipeline::FetchSnapshot>(m);
    if (!f) return f.status();
    return onFetchSnapshot(*f);
  }
  if (bodyIs<pipeline::Probe>(m)) {
    auto p = bodyAs<pipeline::Probe>(m);
    if (!p) return p.status();
    pipeline::ProbeReply reply;
    reply.set_id(p->id());
    reply.set_stage(stageSetup().stage());
    ctx().sendToController(algoMessage(bridge::TrafficKind::kControl, reply));
    return Status::ok();
  }
  return PipelineStageWorker::onOtherMessage(m);
}

namespace {

wire::AlgoMessage replicaMessage(pipeline::Replica body, const ModelState& state) {
  for (const auto& [name, t] : state) body.add_names(name);
  wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kReplica, body);
  for (const auto& [name, t] : state) appendTensor(msg, t);
  return msg;
}

}  // namespace

Status FtpipehdStageWorker::onReplicate(const pipeline::Replicate& r) {
  pipeline::Replica body;
  body.set_iteration(r.iteration());
  body.set_stage(stageSetup().stage());
  body.set_held(true);
  for (int l = module()->first(); l < module()->last(); ++l) {
    body.add_layers(chain().infos()[static_cast<size_t>(l)].name);
  }
  // Weights and momentum (our design: a restored layer goes on with its owner's momentum, so a
  // recovery's replay computes what the run without the failure computed).
  ModelState state = stateOf(*module());
  for (auto& t : momentumOf(optimizer(), *module())) state.push_back(std::move(t));
  if (r.neighbour() && !isLast()) {
    ctx().send(deviceOfStage(stageSetup().stage() + 1), replicaMessage(body, state));
  }
  if (r.global() || (r.neighbour() && isLast())) {
    ctx().sendToController(replicaMessage(body, state));
  }
  // The stage's own copy of the same state, for a recovery that rolls every stage back to it.
  // Kept: the newest two and the newest global one (a lost stage whose successor is lost too
  // comes back from the global replica, R_g may be many R_n old).
  snapshots_[r.iteration()] =
      Snapshot{{body.layers().begin(), body.layers().end()}, state, r.global()};
  int64_t newest_global = -1;
  for (const auto& [it, snap] : snapshots_) {
    if (snap.global) newest_global = it;
  }
  while (snapshots_.size() > 2) {
    auto oldest = snapshots_.begin();
    if (oldest->first == newest_global) ++oldest;
    if (std::next(oldest) == snapshots_.end() || std::next(oldest, 2) == snapshots_.end()) break;
    snapshots_.erase(oldest);
  }
  return Status::ok();
}

Status FtpipehdStageWorker::onFetchSnapshot(const pipeline::FetchSnapshot& f) {
  pipeline::Replica body;
  body.set_iteration(f.iteration());
  body.set_stage(stageSetup().stage());
  body.set_snapshot(true);
  const auto it = snapshots_.find(f.iteration());
  if (it == snapshots_.end()) {
    ctx().sendToController(algoMessage(bridge::TrafficKind::kReplica, body));  // held = false
    return Status::ok();
  }
  for (const auto& l : it->second.layers) body.add_layers(l);
  body.set_held(true);
  ctx().sendToController(replicaMessage(body, it->second.state));
  return Status::ok();
}

Status FtpipehdStageWorker::onReplica(const wire::AlgoMessage& m, const pipeline::Replica& r) {
  auto tensors = tensorsOf(m);
  if (!tensors) return tensors.status();
  if (static_cast<int>(tensors->size()) != r.names_size()) {
    return invalidArgument("a replica from device " + std::to_string(m.from()) + " names " +
                           std::to_string(r.names_size()) + " tensors and carries " +
                           std::to_string(tensors->size()));
  }
  ModelState state;
  for (int i = 0; i < r.names_size(); ++i) state.emplace_back(r.names(i), (*tensors)[i]);
  neighbour_.put(r.iteration(), {r.layers().begin(), r.layers().end()}, state);
  return Status::ok();
}

Status FtpipehdStageWorker::onFetchReplica(const pipeline::FetchReplica& f) {
  const std::vector<std::string> layers(f.layers().begin(), f.layers().end());
  pipeline::Replica body;
  body.set_stage(stageSetup().stage());
  *body.mutable_layers() = f.layers();
  auto state = neighbour_.take(layers);
  if (!state) {
    ctx().sendToController(algoMessage(bridge::TrafficKind::kReplica, body));  // held = false
    return Status::ok();
  }
  int64_t oldest = -1;
  for (const auto& l : layers) {
    const int64_t it = neighbour_.iterationOf(l);
    oldest = oldest < 0 ? it : std::min(oldest, it);
  }
  body.set_iteration(oldest);
  body.set_held(true);
  ctx().sendToController(replicaMessage(body, *state));
  return Status::ok();
}

Status FtpipehdStageWorker::onPrepare(const pipeline::MigratePrepare& p) {
  prepared_.reset();  // a newer prepare replaces one that was never committed
  Prepared prep;
  prep.migration = p.migration();
  prepared_ = std::move(prep);
  const int k = stageSetup().num_stages();
  auto from = planOf(p.old_boundaries(), k);
  auto to = from ? planOf(p.new_boundaries(), k) : from;
  if (!to) {
    answerPrepared(false, to.status().message());
    return Status::ok();
  }
  const int stage = stageSetup().stage();
  if (from->first(stage) != stageSetup().first_layer() ||
      from->last(stage) != stageSetup().last_layer()) {
    answerPrepared(false, "stage " + std::to_string(stage) + " holds layers [" +
                              std::to_string(stageSetup().first_layer()) + ", " +
                              std::to_string(stageSetup().last_layer()) +
                              "), not what the migration's old plan says");
    return Status::ok();
  }
  if (!idle()) {
    answerPrepared(false, "stage " + std::to_string(stage) + " still has an iteration in flight");
    return Status::ok();
  }
  prepared_->to = *to;
  for (const LayerFetch& f : layersGained(*from, *to, stage)) {
    pipeline::FetchLayers fetch;
    fetch.set_migration(p.migration());
    fetch.set_first_layer(f.first);
    fetch.set_last_layer(f.last);
    ctx().send(deviceOfStage(f.owner_stage), algoMessage(bridge::TrafficKind::kControl, fetch));
    ++prepared_->outstanding;
    prepared_->layers_gained += f.last - f.first;
  }
  finishPrepare();
  return Status::ok();
}

Status FtpipehdStageWorker::onFetch(const wire::AlgoMessage& m, const pipeline::FetchLayers& f) {
  // The owner answers from the weights it trains now: the migration runs at an iteration
  // boundary, and before its commit nobody trains.
  const int first = f.first_layer(), last = f.last_layer();
  pipeline::LayerState reply;
  reply.set_migration(f.migration());
  reply.set_first_layer(first);
  reply.set_last_layer(last);
  if (first < module()->first() || last > module()->last() || first >= last) {
    // Not ours: the requester reports a failed prepare, and the migration is aborted.
    ctx().send(m.from(), algoMessage(bridge::TrafficKind::kWeights, reply));
    return Status::ok();
  }
  ModelState out;
  for (auto& [name, t] : stateOf(*module())) {
    if (inLayers(name, chain(), first, last)) out.emplace_back(name, t);
  }
  for (auto& [name, t] : momentumOf(optimizer(), *module())) {
    if (inLayers(name, chain(), first, last)) out.emplace_back(name, t);
  }
  reply.set_held(true);
  for (const auto& [name, t] : out) reply.add_names(name);
  wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kWeights, reply);
  for (const auto& [name, t] : out) appendTensor(msg, t);
  ctx().send(m.from(), std::move(msg));
  return Status::ok();
}

Status FtpipehdStageWorker::onLayerState(const wire::AlgoMessage& m,
                                         const pipeline::LayerState& s) {
  if (!prepared_ || prepared_->migration != s.migration() || prepared_->answered) {
    return Status::ok();  // an aborted or superseded migration's late answer
  }
  auto tensors = tensorsOf(m);
  if (!s.held() || !tensors || static_cast<int>(tensors->size()) != s.names_size()) {
    answerPrepared(false, "device " + std::to_string(m.from()) + " did not send layers [" +
                              std::to_string(s.first_layer()) + ", " +
                              std::to_string(s.last_layer()) + ")");
    return Status::ok();
  }
  for (int i = 0; i < s.names_size(); ++i) {
    const std::string& name = s.names(i);
    torch::Tensor t = (*tensors)[static_cast<size_t>(i)];
    prepared_->bytes += static_cast<int64_t>(t.numel() * t.element_size());
    const bool momentum = name.size() > 9 && name.compare(name.size() - 9, 9, ".momentum") == 0;
    (momentum ? prepared_->momentum : prepared_->weights).emplace_back(name, t);
  }
  --prepared_->outstanding;
  finishPrepare();
  return Status::ok();
}

void FtpipehdStageWorker::finishPrepare() {
  if (!prepared_ || prepared_->answered || prepared_->outstanding > 0) return;
  const int stage = stageSetup().stage();
  const StagePlan& to = prepared_->to;
  // Layers kept: their current weights (the new module shares their blocks) and momentum.
  ModelState weights = stateOf(*module());
  ModelState momentum = momentumOf(optimizer(), *module());
  weights.insert(weights.end(), prepared_->weights.begin(), prepared_->weights.end());
  momentum.insert(momentum.end(), prepared_->momentum.begin(), prepared_->momentum.end());
  auto module = makeModule(to.first(stage), to.last(stage));
  if (!module) {
    answerPrepared(false, module.status().message());
    return;
  }
  try {
    // Loading touches only the new slice's layers: those it keeps get their own values back,
    // those it gains are layers the running slice does not use.
    if (auto st = loadState(**module, weights); !st) {
      answerPrepared(false, st.message());
      return;
    }
    auto optimizer = makeOptimizer(*module);
    if (auto st = loadMomentum(*optimizer, **module, momentum); !st) {
      answerPrepared(false, st.message());
      return;
    }
    prepared_->module = *module;
    prepared_->optimizer = std::move(optimizer);
  } catch (const std::exception& e) {
    answerPrepared(false, std::string("building the migrated stage: ") + e.what());
    return;
  }
  answerPrepared(true, "");
}

void FtpipehdStageWorker::answerPrepared(bool ok, const std::string& error) {
  if (!prepared_) return;
  prepared_->answered = true;
  pipeline::MigratePrepared reply;
  reply.set_migration(prepared_->migration);
  reply.set_stage(stageSetup().stage());
  reply.set_ok(ok);
  reply.set_error(error);
  reply.set_layers_gained(prepared_->layers_gained);
  reply.set_bytes_received(prepared_->bytes);
  ctx().sendToController(algoMessage(bridge::TrafficKind::kControl, reply));
  if (!ok) prepared_.reset();
}

Status FtpipehdStageWorker::onCommit(const pipeline::MigrateCommit& c) {
  if (!prepared_ || prepared_->migration != c.migration() || !prepared_->module) {
    return invalidArgument("commit of migration " + std::to_string(c.migration()) +
                           " that this stage has not prepared");
  }
  reassign(std::move(*prepared_->module), std::move(prepared_->optimizer));
  prepared_.reset();
  snapshots_.clear();  // of layers this stage no longer holds as they were
  pipeline::MigrateCommitted done;
  done.set_migration(c.migration());
  done.set_stage(stageSetup().stage());
  ctx().sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  return Status::ok();
}

}  // namespace edgerig
