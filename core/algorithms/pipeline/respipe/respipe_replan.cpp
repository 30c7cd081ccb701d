// respipe with r = 0, the controller side (RespipeCoordinator, respipe_coordinator.h): no stage
// holds another's layers, so a lost stage cannot be routed around or taken over. Every stage
// checkpoints its weights and momentum to the controller every T mini-batches instead (the
// agent side is RespipeStageWorker::sendReplicas), and a lost stage is recovered through a
// re-plan: the survivors get a new plan, every layer comes from the newest whole checkpoint, and
// the mini-batches since it run again. Our design (docs/design.md, respipe 5).
#include <algorithm>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/common/event_text.h"
#include "core/algorithms/pipeline/respipe/respipe_coordinator.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

using pipeline_text::joined;
using pipeline_text::seconds;
// Checkpoints newer than the newest whole one kept while their other stages' parts arrive; an
// older part is dropped beyond that (memory stays bounded when a stage never sends its part).
constexpr size_t kPartialCheckpointsKept = 4;

double since(RespipeCoordinator::Clock::time_point t) {
  return std::chrono::duration<double>(RespipeCoordinator::Clock::now() - t).count();
}

}  // namespace

void RespipeCoordinator::keyStartCheckpoint(int64_t iteration) {
  if (!start_checkpoint_) return;
  checkpoints_[dataIteration(iteration)] = std::move(*start_checkpoint_);
  start_checkpoint_.reset();
}

const std::pair<const int64_t, RespipeCoordinator::Checkpoint>*
RespipeCoordinator::newestWholeCheckpoint() const {
  for (auto it = checkpoints_.rbegin(); it != checkpoints_.rend(); ++it) {
    const bool whole = std::all_of(layers_.begin(), layers_.end(), [&](const LayerInfo& info) {
      return it->second.layers.count(info.name) > 0;
    });
    if (whole) return &*it;
  }
  return nullptr;
}

void RespipeCoordinator::storeCheckpoints() {
  for (;;) {
    auto msg = ctx_.await(
        [](const DeviceMessage& m) {
          auto r = bodyIn<pipeline::Replica>(m);
          return r && r->held() && m.device >= 0;
        },
        std::chrono::milliseconds(0), "the stages' checkpoints");
    if (!msg) break;  // none waiting (or a loss to take first: the next call stores the rest)
    const auto r = *bodyIn<pipeline::Replica>(*msg);
    auto tensors = tensorsOf(msg->env.algo());
    // A part whose tensors do not match its names is dropped (as ftpipehd's replicas): that
    // checkpoint never becomes whole, and the previous whole one stays the recovery's source.
    if (!tensors || static_cast<int>(tensors->size()) != r.names_size()) continue;
    const auto* whole = newestWholeCheckpoint();
    const int64_t key = dataIteration(r.iteration());
    if (whole && key <= whole->first) continue;  // older than what the controller holds whole
    Checkpoint& c = checkpoints_[key];
    for (int i = 0; i < r.names_size(); ++i) {
      const std::string& name = r.names(i);
      (name.ends_with(".momentum") ? c.momentum : c.weights).emplace_back(name, (*tensors)[i]);
    }
    c.layers.insert(r.layers().begin(), r.layers().end());
  }
  if (const auto* whole = newestWholeCheckpoint()) {
    checkpoints_.erase(checkpoints_.begin(), checkpoints_.find(whole->first));
  }
  while (checkpoints_.size() > kPartialCheckpointsKept + 1) {
    checkpoints_.erase(std::next(checkpoints_.begin()));  // the oldest part after the whole one
  }
}

Result<StagePlan> RespipeCoordinator::planOver(const std::vector<int>& devices) {
  // The experiment's plan kind over the devices left (explicit cuts name one stage per device,
  // so fewer devices get the even plan).
  const auto saved = device_of_stage_;
  device_of_stage_ = devices;
  std::vector<double> capacity;
  for (int d : devices) capacity.push_back(capacity_[static_cast<size_t>(d)]);
  Result<StagePlan> plan = planOfKind(capacity);
  device_of_stage_ = saved;
  return plan;
}

Status RespipeCoordinator::recoverByReplan(int64_t iteration, Clock::time_point interrupted) {
  keyStartCheckpoint(iteration);
  const auto detected = Clock::now();
  const double detection = std::chrono::duration<double>(detected - interrupted).count();
  recoveryPhase("detect", detection, iteration);
  // Another device lost meanwhile starts it again over the devices left.
  for (int attempt = 0;; ++attempt) {
    Status st = replanOnce(iteration, detected, detection, attempt == 0 ? detected : Clock::now());
    if (st || st.code() != StatusCode::kUnavailable || attempt >= ctx_.numDevices()) return st;
  }
}

Status RespipeCoordinator::replanOnce(int64_t iteration, Clock::time_point detected,
                                      double detection, Clock::time_point attempt) {
  if (auto st = takeLost(); !st) return st;
  storeCheckpoints();
  std::vector<int> survivors;
  std::string lost_names;
  for (int s = 0; s < originalStages(); ++s) {
    if (!active(s)) continue;
    const int d = start_devices_[static_cast<size_t>(s)];
    if (ctx_.alive(d) && !replan_lost_.count(d)) {
      survivors.push_back(d);
    } else {
      if (!lost_names.empty()) lost_names += ", ";
      lost_names += ctx_.deviceName(d);
    }
  }
  if (lost_names.empty()) {  // nobody of the pipeline is lost
    replan_lost_.clear();
    return Status::ok();
  }
  if (survivors.empty()) return unavailable("every stage is lost (" + lost_names + ")");

  // Phase 1: the plan over the survivors. Nothing changes until the commit.
  auto plan = planOver(survivors);
  if (!plan) return plan.status();
  auto phase_start = Clock::now();
  recoveryPhase("re-plan", std::chrono::duration<double>(phase_start - attempt).count(), iteration);

  // Phase 2: every layer from the newest whole checkpoint, the survivors' too (their newer
  // weights would not match the lost layers' older ones; replaying from one checkpoint gives
  // the model the run without the failure has).
  const auto* checkpoint = newestWholeCheckpoint();
  if (!checkpoint) {  // cannot happen: the starting model is whole
    return internalError("respipe (r = 0) holds no whole checkpoint to recover " + lost_names +
                         " from");
  }
  const int64_t resume = checkpoint->first;
  std::string sources;
  for (const auto& info : layers_) {
    if (!sources.empty()) sources += ' ';
    sources += info.name + ":controller (checkpoint)";
  }
  const auto fetched = Clock::now();
  recoveryPhase("fetch", std::chrono::duration<double>(fetched - phase_start).count(), iteration);
  phase_start = fetched;

  // Phase 3: commit. The survivors start on the new plan (a new generation: what the old one
  // still sends is dropped) and the mini-batches since the checkpoint run again.
  const StagePlan old_plan = *plan_;
  const std::vector<int> old_devices = device_of_stage_;
  Status started = restartStages(*plan, survivors, toBlob(checkpoint->second.weights),
                                 toBlob(checkpoint->second.momentum));
  if (!started) {
    plan_ = old_plan;
    device_of_stage_ = old_devices;
    return started;
  }
  const int64_t retrained = std::max<int64_t>(0, dataIteration(iteration) - resume);
  replay_offset_ += retrained;
  checkpoints_.erase(checkpoints_.upper_bound(resume), checkpoints_.end());
  start_plan_ = *plan_;
  start_devices_ = device_of_stage_;
  merged_.clear();
  lost_.clear();
  replan_lost_.clear();
  flushed_.clear();
  for (int s = 0; s < originalStages(); ++s) flushed_[s] = iteration - 1;
  recoveryPhase("commit", since(phase_start), iteration);
  const double took = since(detected);
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_,
                   "recovered without " + lost_names + " through a re-plan");
  std::string left;
  for (int d : survivors) {
    if (!left.empty()) left += ' ';
    left += ctx_.deviceName(d);
  }
  recovered(
      {"went on without " + lost_names + " in " + seconds(took) +
           " s through a re-plan (r = 0: every layer from the controller's checkpoint after " +
           std::to_string(resume) + " mini-batches); " + std::to_string(retrained) +
           " iterations retrained; the plan is now " + plan_->describe(layers_),
       left, detection, took, sources, retrained, iteration});
  return Status::ok();
}

}  // namespace edgerig
