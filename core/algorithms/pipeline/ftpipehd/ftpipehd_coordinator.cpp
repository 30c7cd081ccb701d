#include "core/algorithms/pipeline/ftpipehd/ftpipehd_coordinator.h"

#include <algorithm>
#include <optional>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/common/event_text.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"
#include "pipeline.pb.h"

namespace edgerig {
namespace {

using pipeline_text::joined;
using pipeline_text::seconds;
constexpr auto kReplicaWait = std::chrono::milliseconds(30000);
constexpr auto kProbeWait = std::chrono::milliseconds(200);
// A stage with less than this share of an even stage's reference work is not timed for its
// device's capacity (trustedCapacities).
constexpr double kTrustedShare = 0.1;

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Status FtpipehdCoordinator::setup() {
  replan_every_ = ctx_.params().getInt("replanEvery");
  replan_gain_ = ctx_.params().getDouble("replanGain");
  replicate_neighbour_every_ = ctx_.params().getInt("replicateNeighbourEvery");
  replicate_global_every_ = ctx_.params().getInt("replicateGlobalEvery");
  if (const int64_t deadline = ctx_.params().getInt("deadlineMs"); deadline > 0) {
    step_timeout_ = std::chrono::milliseconds(deadline);
  }
  // The starting model is the first global replica (iteration 0): a stage lost before any
  // replication restarts from it. It costs nothing on the wire: the seed makes it here too.
  auto chain = LayerChain::build(ctx_.config().model, ctx_.config().seed);
  if (!chain) return chain.status();
  std::vector<std::string> names;
  for (const auto& info : chain->infos()) names.push_back(info.name);
  ModelState start;
  if (initial_state_.tensors_size() > 0) {
    auto state = fromBlob(initial_state_);
    if (!state) return state.status();
    start = std::move(state).value();
  } else {
    start = stateOf(*StageModule(*chain, 0, chain->numLayers()));
  }
  controller_replicas_.put(0, names, start);
  if (auto st = PipelineCoordinator::setup(); !st) return st;
  last_capacity_ = capacity_;
  links_seen_ = ctx_.linkProbes();
  window_.reset(numStages());
  // Where the replicas stand, for the views (the partition strip names each stage's replica and
  // its age): none on the stages yet, the starting model on the controller.
  ctx_.metric(kNeighbourReplicaIteration, -1);
  ctx_.metric(kGlobalReplicaIteration, 0);
  return Status::ok();
}

Result<StepResult> FtpipehdCoordinator::trainStep(int64_t iteration) {
  constexpr int kMaxRecoveries = 8;  // per iteration: every device can fail only once
  for (int attempt = 0;; ++attempt) {
    const auto started = Clock::now();
    Status st = Status::ok();
    if (auto lost = ctx_.takeLost(); !lost.empty()) {
      st = recover(lost, iteration, started);
      if (!st) return st;
    }
    if (replicas_expected_ > 0) st = collectReplicas(kReplicaWait);
    const bool links_remeasured = ctx_.linkProbes() != links_seen_;
    const bool early = !early_measured_ && window_.iterations() >= kEarlyMeasurement;
    if (st && replan_every_ > 0 &&
        (window_.iterations() >= replan_every_ || early ||
         (links_remeasured && window_.iterations() > 0))) {
      links_seen_ = ctx_.linkProbes();
      early_measured_ = true;
      st = maybeReplan(iteration, links_remeasured ? "links" : "capacities");
    }
    Result<StepResult> result = st;
    if (st) result = runIteration(iteration, dataIteration(iteration));
    if (result) {
      std::vector<double> stage_s;
      for (const DeviceStep& d : result->devices) stage_s.push_back(d.compute_s);  // stage order
      window_.add(stage_s);
      replicateIfDue(dataIteration(iteration) + 1, iteration + 1);
      next_iteration_ = iteration + 1;
      return result;
    }
    std::vector<int> lost;
    if (result.status().code() == StatusCode::kTimeout && ctx_.params().getInt("deadlineMs") > 0 &&
        attempt < kMaxRecoveries) {
      // The backward deadline passed. Every stage waits for its neighbours then, so the one that
      // stopped is found by asking: the stages that do not answer a probe are dropped as lost.
      lost = unresponsiveStages();
      if (lost.empty()) return result.status();  // all answer: slow, not stopped
    } else if (result.status().code() != StatusCode::kUnavailable || attempt >= kMaxRecoveries) {
      return result.status();
    }
    for (int d : ctx_.takeLost()) lost.push_back(d);
    if (auto rec = recover(lost, iteration, started); !rec) return rec;
  }
}

Result<EvalResult> FtpipehdCoordinator::evaluate(int64_t samples) {
  for (int attempt = 0;; ++attempt) {
    const auto started = Clock::now();
    auto result = PipelineCoordinator::evaluate(samples);
    if (result || result.status().code() != StatusCode::kUnavailable || attempt >= 8) {
      return result;
    }
    if (auto rec = recover(ctx_.takeLost(), next_iteration_, started); !rec) return rec;
  }
}

Status FtpipehdCoordinator::maybeReplan(int64_t iteration, const std::string& trigger) {
  const std::vector<double> measured = window_.mean();
  const int measured_over = window_.iterations();
  window_.reset(numStages());
  std::vector<double> previous;
  for (int s = 0; s < numStages(); ++s) previous.push_back(last_capacity_[deviceOf(s)]);
  const std::vector<double> capacity =
      trustedCapacities(reference_time_s_, *plan_, measured, previous, kTrustedShare);
  const double fastest = *std::max_element(capacity.begin(), capacity.end());
  for (int s = 0; s < numStages(); ++s) {
    ctx_.setCapacity(deviceOf(s), capacity[s] / fastest);
    last_capacity_[static_cast<size_t>(deviceOf(s))] = capacity[s];
  }
  const bool same_devices = left_plan_ && left_devices_ == device_of_stage_;
  auto decision = decideReplan(planInputs(capacity), *plan_, replan_gain_,
                               same_devices ? &*left_plan_ : nullptr);
  if (!decision) return decision.status();
  ctx_.metric("predicted_gain", decision->gain);
  if (!decision->replan) return Status::ok();
  namespace f = events::fields;
  ctx_.event(std::string(events::kReplanned),
             decision->reason + " (stage times over " + std::to_string(measured_over) +
                 " iterations: " + joined(measured) + " s); moving to " +
                 decision->proposed.describe(layers_),
             -1,
             {{std::string(f::kReason), trigger},
              {std::string(f::kGain), seconds(decision->gain)},
              {std::string(f::kCapacities), joined(capacity)},
              {std::string(f::kCuts), joined(decision->proposed.cuts())},
              {std::string(f::kIteration), std::to_string(iteration)}});
  const StagePlan before = *plan_;
  const std::vector<int> devices = device_of_stage_;
  Status st = migrate(decision->proposed, iteration, decision->reason);
  if (st && *plan_ == decision->proposed) {
    left_plan_ = before;
    left_devices_ = devices;
  }
  return st;
}

Status FtpipehdCoordinator::migrate(const StagePlan& to, int64_t iteration,
                                    const std::string& why) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t id = ++migration_id_;
  const int k = numStages();
  pipeline::MigratePrepare prepare;
  prepare.set_migration(id);
  *prepare.mutable_old_boundaries() = {plan_->boundaries.begin(), plan_->boundaries.end()};
  *prepare.mutable_new_boundaries() = {to.boundaries.begin(), to.boundaries.end()};
  for (int s = 0; s < k; ++s) {
    ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, prepare));
  }
  // Phase 1: every stage has pulled what it gains and built its new slice.
  int layers_moved = 0;
  int64_t bytes_moved = 0;
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await(
        [id](const DeviceMessage& m) {
          auto p = bodyIn<pipeline::MigratePrepared>(m);
          return p && p->migration() == id;
        },
        kMigrationTimeout, "migration " + std::to_string(id) + " (prepare)");
    if (!msg) {
      abortMigration(id, iteration, msg.status().message(), started);
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : Status::ok();
    }
    const auto prepared = bodyIn<pipeline::MigratePrepared>(*msg);
    if (!prepared->ok()) {
      abortMigration(id, iteration,
                     "stage " + std::to_string(prepared->stage()) + ": " + prepared->error(),
                     started);
      return Status::ok();
    }
    layers_moved += prepared->layers_gained();
    bytes_moved += prepared->bytes_received();
  }
  // Phase 2: the decision is made; every stage switches before the next iteration starts.
  pipeline::MigrateCommit commit;
  commit.set_migration(id);
  for (int s = 0; s < k; ++s) {
    ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, commit));
  }
  // From here the new plan is the plan: every living stage reads the commit before anything a
  // recovery asks of it, so a device lost now is recovered from under the new plan (under the
  // old one, a layer a survivor just gained would come back twice and one it gave away never).
  plan_ = to;
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await(
        [id](const DeviceMessage& m) {
          auto c = bodyIn<pipeline::MigrateCommitted>(m);
          return c && c->migration() == id;
        },
        kMigrationTimeout, "migration " + std::to_string(id) + " (commit)");
    if (!msg) {
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : msg.status();
    }
  }
  const double took = since(started);
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_, why);
  ctx_.metric(kNeighbourReplicaIteration, -1);  // the stages' replicas went with the plan
  namespace f = events::fields;
  ctx_.event(std::string(events::kMigrated),
             std::to_string(layers_moved) + " layers (" + std::to_string(bytes_moved) +
                 " bytes of weights and momentum) moved in " + seconds(took) + " s",
             -1,
             {{std::string(f::kSeconds), seconds(took)},
              {std::string(f::kLayersMoved), std::to_string(layers_moved)},
              {std::string(f::kCuts), joined(plan_->cuts())},
              {std::string(f::kIteration), std::to_string(iteration)}});
  ctx_.metric("migration_s", took);
  return Status::ok();
}

void FtpipehdCoordinator::abortMigration(int64_t migration, int64_t iteration,
                                         const std::string& reason,
                                         std::chrono::steady_clock::time_point started) {
  pipeline::MigrateAbort abort;
  abort.set_migration(migration);
  for (int s = 0; s < numStages(); ++s) {
    if (ctx_.alive(deviceOf(s))) {
      ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, abort));
    }
  }
  namespace f = events::fields;
  ctx_.event(std::string(events::kMigrationAborted),
             "migration " + std::to_string(migration) + " aborted, the plan stays " +
                 plan_->describe(layers_) + ": " + reason,
             -1,
             {{std::string(f::kReason), reason},
              {std::string(f::kSeconds), seconds(since(started))},
              {std::string(f::kIteration), std::to_string(iteration)}});
}

void FtpipehdCoordinator::replicateIfDue(int64_t data_done, int64_t boundary) {
  const bool neighbour =
      replicate_neighbour_every_ > 0 && data_done % replicate_neighbour_every_ == 0;
  const bool global = replicate_global_every_ > 0 && data_done % replicate_global_every_ == 0;
  if (!neighbour && !global) return;
  pipeline::Replicate r;
  r.set_iteration(data_done);
  r.set_neighbour(neighbour);
  r.set_global(global);
  for (int s = 0; s < numStages(); ++s) {
    ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, r));
  }
  replicas_expected_ += global ? numStages() : 1;  // the last stage sends one for both
  if (neighbour) ctx_.metric(kNeighbourReplicaIteration, static_cast<double>(boundary));
  if (global) ctx_.metric(kGlobalReplicaIteration, static_cast<double>(boundary));
}

Status FtpipehdCoordinator::collectReplicas(std::chrono::milliseconds timeout) {
  while (replicas_expected_ > 0) {
    auto msg = ctx_.await(
        [](const DeviceMessage& m) {
          auto r = bodyIn<pipeline::Replica>(m);
          return r && r->held() && !r->snapshot() && m.device >= 0;
        },
        timeout, "the stages' replicas");
    if (!msg) return msg.status();
    --replicas_expected_;
    const auto r = bodyIn<pipeline::Replica>(*msg);
    auto tensors = tensorsOf(msg->env.algo());
    if (!tensors || static_cast<int>(tensors->size()) != r->names_size()) continue;
    ModelState state;
    for (int i = 0; i < r->names_size(); ++i) state.emplace_back(r->names(i), (*tensors)[i]);
    controller_replicas_.put(r->iteration(), {r->layers().begin(), r->layers().end()}, state);
  }
  return Status::ok();
}

std::vector<int> FtpipehdCoordinator::unresponsiveStages() {
  const int64_t id = ++probe_id_;
  pipeline::Probe probe;
  probe.set_id(id);
  std::vector<int> silent;
  for (int s = 0; s < numStages(); ++s) {
    ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, probe));
    silent.push_back(deviceOf(s));
  }
  const auto wait = std::max(kProbeWait, step_timeout_ / 2);
  const auto deadline = Clock::now() + wait;
  while (!silent.empty() && Clock::now() < deadline) {
    auto msg = ctx_.await(
        [id](const DeviceMessage& m) {
          auto r = bodyIn<pipeline::ProbeReply>(m);
          return r && r->id() == id;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
        "the stages' probe replies");
    if (!msg) break;
    std::erase(silent, msg->device);
  }
  for (int d : silent) dropped_.insert(d);
  return silent;
}

Result<double> FtpipehdCoordinator::profileCapacity(int device) {
  const auto& cfg = ctx_.config();
  const int micro = std::max(1, cfg.batch_size / std::max(1, micro_batches_));
  const double scale = static_cast<double>(cfg.batch_size) / micro;
  wire::Envelope env;
  auto* p = env.mutable_profile_request();
  p->set_model(cfg.model);
  p->set_batch_size(micro);
  p->set_repetitions(kProfileRepetitions);
  p->set_seed(cfg.seed);
  ctx_.sendControl(device, std::move(env));
  auto msg = ctx_.await(
      [device](const DeviceMessage& m) { return m.device == device && m.env.has_profile_result(); },
      kMigrationTimeout, "the layer profile of " + ctx_.deviceName(device));
  if (!msg) return msg.status();
  const auto& r = msg->env.profile_result();
  if (r.layers_size() != static_cast<int>(layers_.size())) {
    return invalidArgument("device " + ctx_.deviceName(device) + " profiled " +
                           std::to_string(r.layers_size()) + " layers, expected " +
                           std::to_string(layers_.size()));
  }
  double own = 0, reference = 0;
  for (const auto& l : r.layers()) own += l.forward_backward_s() * scale;
  for (double t : reference_time_s_) reference += t;
  return own > 0 ? reference / own : 1.0;
}

Status FtpipehdCoordinator::deviceRejoined(int device) {
  const auto started = Clock::now();
  // A new process: a deadline it missed before is over, and whatever a stage on it trained is
  // gone. A stage rebooted in place is recovered from first, as a lost one would be.
  dropped_.erase(device);
  if (stageOf(device) >= 0) {
    dropped_.insert(device);
    rebooted_ = device;
    Status st = recover({device}, next_iteration_, started);
    rebooted_ = -1;
    dropped_.erase(device);
    if (!st) return st;
  }
  if (static_cast<size_t>(numStages()) >= layers_.size()) {
    ctx_.event(
        std::string(events::kError),
        ctx_.deviceName(device) + " is back, but every layer already has a stage of its own");
    return Status::ok();
  }
  // A device lost while taking it back is recovered from, and the rejoin tried again.
  for (int attempt = 0;; ++attempt) {
    Status st = rejoin(device, started);
    if (st || st.code() != StatusCode::kUnavailable || attempt >= ctx_.numDevices()) return st;
    if (!ctx_.alive(device)) return st;
    if (auto rec = recover(ctx_.takeLost(), next_iteration_, Clock::now()); !rec) return rec;
  }
}

Status FtpipehdCoordinator::rejoin(int device, Clock::time_point started) {
  // The replicas this pipeline still owes the controller, before its generation ends.
  if (replicas_expected_ > 0) {
    if (auto st = collectReplicas(kReplicaWait); !st) return st;
  }
  auto capacity_of_device = profileCapacity(device);
  if (!capacity_of_device) return capacity_of_device.status();
  last_capacity_[static_cast<size_t>(device)] = *capacity_of_device;
  auto gathered = gatherStages(true);
  if (!gathered) return gathered.status();

  // The stages in device order (the starting plan's), the returning device among them.
  const std::vector<int> old_devices = device_of_stage_;
  std::vector<double> old_capacity;
  for (int d : old_devices) old_capacity.push_back(last_capacity_[static_cast<size_t>(d)]);
  const double old_step = slowestStep(planInputs(old_capacity), *plan_);
  std::vector<int> order = old_devices;
  order.push_back(device);
  std::sort(order.begin(), order.end());
  std::vector<double> capacity;
  for (int d : order) capacity.push_back(last_capacity_[static_cast<size_t>(d)]);
  device_of_stage_ = order;
  const PlanInputs inputs = planInputs(capacity);
  auto plan = balancedPlan(inputs);
  if (!plan) {
    device_of_stage_ = old_devices;
    return plan.status();
  }
  const double new_step = slowestStep(inputs, *plan);
  const double gain = new_step > 0 ? old_step / new_step : 1.0;
  namespace f = events::fields;
  ctx_.event(std::string(events::kReplanned),
             ctx_.deviceName(device) + " is back (capacity " +
                 joined(std::vector<double>{*capacity_of_device}) +
                 " from its profile); moving to " + plan->describe(layers_),
             device,
             {{std::string(f::kReason), "rejoined"},
              {std::string(f::kGain), seconds(gain)},
              {std::string(f::kCapacities), joined(capacity)},
              {std::string(f::kCuts), joined(plan->cuts())},
              {std::string(f::kIteration), std::to_string(next_iteration_)}});
  // Commit: every stage, the returning one too, starts on the new plan from the gathered model
  // (a new generation). Nothing is lost, so nothing is retrained.
  if (Status st = restartStages(*plan, device_of_stage_, std::move(gathered->weights),
                                std::move(gathered->optimizer));
      !st) {
    return st;
  }
  replicas_expected_ = 0;
  window_.reset(numStages());
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_,
                   ctx_.deviceName(device) + " rejoined");
  ctx_.metric(kNeighbourReplicaIteration, -1);  // the stages' replicas went with the plan
  const double took = since(started);
  const int stage = stageOf(device);
  ctx_.event(std::string(events::kDeviceRejoined),
             ctx_.deviceName(device) + " rejoined as stage " + std::to_string(stage) + " (" +
                 std::to_string(plan_->last(stage) - plan_->first(stage)) +
                 " layers): the pipeline restarted on " + std::to_string(numStages()) +
                 " stages from the gathered model in " + seconds(took) + " s",
             device,
             {{std::string(f::kSeconds), seconds(took)},
              {std::string(f::kCuts), joined(plan_->cuts())},
              {std::string(f::kIteration), std::to_string(next_iteration_)}});
  return Status::ok();
}

}  // namespace edgerig
