// ftpipehd's recovery (FtpipehdCoordinator, ftpipehd_coordinator.h; docs/design.md ftpipehd 7):
// three phases over the survivors — re-plan; the lost layers from the next stage's neighbour
// replica, else the controller's copy, and every stage rolled back to that replica's mini-batch
// (our design); commit and replay from there.
#include <algorithm>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/common/event_text.h"
#include "core/algorithms/pipeline/ftpipehd/ftpipehd_coordinator.h"
#include "core/model/tensor_codec.h"
#include "pipeline.pb.h"

namespace edgerig {

using pipeline_text::seconds;

namespace {

// A replica's tensor into the model's weights or, named <layer>.<param>.momentum, its momentum.
void addTensor(const std::string& name, torch::Tensor t, ModelState& weights,
               ModelState& momentum) {
  (name.ends_with(".momentum") ? momentum : weights).emplace_back(name, std::move(t));
}

}  // namespace

Result<bool> FtpipehdCoordinator::fetchSnapshots(const std::vector<int>& devices, int64_t at,
                                                 ModelState& weights, ModelState& momentum) {
  pipeline::FetchSnapshot fetch;
  fetch.set_iteration(at);
  for (int d : devices) ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, fetch));
  std::vector<int> pending = devices;
  bool all = true;
  while (!pending.empty()) {
    auto msg = ctx_.await(
        [&pending, at](const DeviceMessage& m) {
          auto r = bodyIn<pipeline::Replica>(m);
          return r && r->snapshot() && r->iteration() == at &&
                 std::find(pending.begin(), pending.end(), m.device) != pending.end();
        },
        kMigrationTimeout, "the surviving stages' weights of mini-batch " + std::to_string(at));
    if (!msg) return msg.status();
    pending.erase(std::find(pending.begin(), pending.end(), msg->device));
    const auto r = bodyIn<pipeline::Replica>(*msg);
    auto tensors = tensorsOf(msg->env.algo());
    if (!r->held() || !tensors || static_cast<int>(tensors->size()) != r->names_size()) {
      all = false;
      continue;
    }
    for (int i = 0; i < r->names_size(); ++i) {
      addTensor(r->names(i), (*tensors)[static_cast<size_t>(i)], weights, momentum);
    }
  }
  return all;
}

Status FtpipehdCoordinator::recover(std::vector<int> lost, int64_t iteration,
                                    Clock::time_point interrupted) {
  const auto detected = Clock::now();
  const double detection = std::chrono::duration<double>(detected - interrupted).count();
  recoveryPhase("detect", detection, iteration);
  // Another device lost while recovering (two killed at once are seen one after the other)
  // starts the recovery again over the devices left.
  for (int attempt = 0;; ++attempt) {
    // The first attempt starts at the detection, so its phases add up to the recovery's time.
    Status st =
        recoverOnce(lost, iteration, detected, detection, attempt == 0 ? detected : Clock::now());
    if (st || st.code() != StatusCode::kUnavailable || attempt >= ctx_.numDevices()) return st;
    lost = ctx_.takeLost();
  }
}

Status FtpipehdCoordinator::recoverOnce(const std::vector<int>& lost, int64_t iteration,
                                        Clock::time_point detected, double detection,
                                        Clock::time_point attempt) {
  // The lost stages' replicas never come; the survivors' are dropped with their generation.
  replicas_expected_ = 0;
  const StagePlan old_plan = *plan_;
  const std::vector<int> old_devices = device_of_stage_;
  const int old_k = static_cast<int>(old_devices.size());
  std::vector<int> survivors;
  std::string lost_names;
  for (int d : old_devices) {
    if (usable(d)) {
      survivors.push_back(d);
    } else {
      lost_names += (lost_names.empty() ? "" : ", ") + ctx_.deviceName(d) +
                    (d == rebooted_  ? " (restarted)"
                     : ctx_.alive(d) ? " (missed the backward deadline)"
                                     : "");
    }
  }
  for (int d : lost) {
    if (std::find(old_devices.begin(), old_devices.end(), d) == old_devices.end()) {
      lost_names += (lost_names.empty() ? "" : ", ") + ctx_.deviceName(d);
    }
  }
  if (survivors.empty()) return unavailable("every stage is lost (" + lost_names + ")");
  if (survivors.size() == old_devices.size()) return Status::ok();  // nobody of ours is lost

  // Phase 1: drop the lost stages and re-plan over the survivors. Nothing changes here until the
  // commit, so a device lost during the recovery only starts it again.
  device_of_stage_ = survivors;
  std::vector<double> capacity;
  for (int d : survivors) capacity.push_back(last_capacity_[static_cast<size_t>(d)]);
  auto plan = balancedPlan(planInputs(capacity));
  device_of_stage_ = old_devices;
  if (!plan) return plan.status();
  auto phase_start = Clock::now();
  recoveryPhase("re-plan", std::chrono::duration<double>(phase_start - attempt).count(), iteration);

  // Phase 2: every layer's weights and momentum. The lost stages' from the next stage's
  // neighbour replica, else the controller's copy...
  const int64_t data_now = dataIteration(iteration);
  int64_t resume = data_now;
  std::string sources;
  ModelState lost_state;
  for (int s = 0; s < old_k; ++s) {
    if (usable(old_devices[static_cast<size_t>(s)])) continue;
    std::vector<std::string> names;
    for (int l = old_plan.first(s); l < old_plan.last(s); ++l) names.push_back(layers_[l].name);
    std::string source;
    const int next = s + 1 < old_k ? old_devices[static_cast<size_t>(s) + 1] : -1;
    if (next >= 0 && usable(next)) {
      auto copy =
          fetchReplica(next, names, kMigrationTimeout, "the neighbour replica of " + names.front());
      if (!copy) return copy.status();
      if (*copy) {
        lost_state.insert(lost_state.end(), (*copy)->tensors.begin(), (*copy)->tensors.end());
        resume = std::min(resume, (*copy)->iteration);
        source = "neighbour";
      }
    }
    if (source.empty()) {
      auto copy = controller_replicas_.take(names);
      if (!copy) return copy.status();
      lost_state.insert(lost_state.end(), copy->begin(), copy->end());
      for (const auto& n : names) resume = std::min(resume, controller_replicas_.iterationOf(n));
      source = s + 1 == old_k ? "controller (neighbour)" : "controller (global)";
    }
    for (const auto& n : names) sources += (sources.empty() ? "" : " ") + n + ":" + source;
  }
  // ... and the survivors' own as they were at that mini-batch count (our design: every stage
  // rolls back, so the replay computes what the run without the failure computed): from the
  // controller when it holds the whole model of then (a global replica, the starting model),
  // else from the copies the survivors kept when they replicated; when one kept none of then (it
  // migrated since), the survivors' as they are now: ftpipehd's mix.
  ModelState weights, momentum;
  std::vector<std::string> all_layers;
  for (const auto& l : layers_) all_layers.push_back(l.name);
  const bool controller_has_all = std::all_of(
      all_layers.begin(), all_layers.end(),
      [&](const std::string& l) { return controller_replicas_.iterationOf(l) == resume; });
  Result<bool> rolled_back = false;
  if (resume < data_now && controller_has_all) {
    auto all = controller_replicas_.take(all_layers);
    if (!all) return all.status();
    lost_state = std::move(all).value();  // the lost layers' copies are the same
    rolled_back = true;
  } else if (resume < data_now) {
    rolled_back = fetchSnapshots(survivors, resume, weights, momentum);
  }
  if (!rolled_back) return rolled_back.status();
  if (!*rolled_back) {
    weights.clear();
    momentum.clear();
    if (auto st = fetchStates(survivors, kMigrationTimeout, "the surviving stages' weights",
                              weights, momentum);
        !st) {
      return st;
    }
  }
  for (auto& [name, t] : lost_state) addTensor(name, std::move(t), weights, momentum);

  const auto fetched = Clock::now();
  recoveryPhase("fetch", std::chrono::duration<double>(fetched - phase_start).count(), iteration);
  phase_start = fetched;

  // Phase 3: commit. The survivors restart on the new plan (a new generation: whatever the old
  // one still sends is dropped) and the mini-batches since the oldest replica used run again.
  if (Status st = restartStages(*plan, survivors, toBlob(weights), toBlob(momentum)); !st) {
    return st;
  }
  const int64_t retrained = data_now - resume;
  replay_offset_ += retrained;
  window_.reset(numStages());
  const auto committed = Clock::now();
  recoveryPhase("commit", std::chrono::duration<double>(committed - phase_start).count(),
                iteration);
  const double took = std::chrono::duration<double>(committed - detected).count();
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_,
                   "recovered without " + lost_names);
  ctx_.metric(kNeighbourReplicaIteration, -1);  // the stages' replicas went with the plan
  std::string left;
  for (int d : survivors) left += (left.empty() ? "" : " ") + ctx_.deviceName(d);
  recovered({"went on without " + lost_names + " in " + seconds(took) + " s (" + sources + "); " +
                 std::to_string(retrained) + " iterations retrained" +
                 (retrained == 0 ? ""
                  : *rolled_back
                      ? ", every stage from its weights of mini-batch " + std::to_string(resume)
                      : ", the survivors on their newer weights"),
             left, detection, took, sources, retrained, iteration});
  return Status::ok();
}

}  // namespace edgerig
