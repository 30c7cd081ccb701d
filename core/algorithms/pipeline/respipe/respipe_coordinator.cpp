#include "core/algorithms/pipeline/respipe/respipe_coordinator.h"

#include <algorithm>
#include <optional>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/common/event_text.h"
#include "core/algorithms/pipeline/common/replica_store.h"
#include "core/algorithms/pipeline/respipe/respipe.h"
#include "core/data/sampler.h"
#include "core/model/layer_chain.h"
#include "core/model/model_state.h"
#include "core/model/stage.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;
using pipeline_text::joined;
using pipeline_text::seconds;
constexpr auto kCatchUpTimeout = std::chrono::seconds(60);
// Each wait of the controller's take-over (survivors' weights, a replica, the new workers).
constexpr auto kRecoveryTimeout = std::chrono::seconds(60);
constexpr int64_t kEvalBatch = 500;
constexpr int kEvalInFlight = 2;
constexpr int64_t kEvalIdBase = int64_t{1} << 40;  // as PipelineCoordinator's

// Rounded up: a wait of this long never ends before `deadline` (await ends exactly at its
// timeout, and the callers then check that the deadline has passed).
std::chrono::milliseconds leftUntil(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

Status RespipeCoordinator::setup() {
  redundancy_ = static_cast<int>(ctx_.params().getInt("redundancy"));
  routing_ = ctx_.params().getInt("deadlineMs") > 0 && redundancy_ > 0;
  merged_.clear();
  lost_.clear();
  flushed_.clear();
  last_iteration_ = -1;
  if (auto st = PipelineCoordinator::setup(); !st) return st;
  start_plan_ = *plan_;
  start_devices_ = device_of_stage_;
  for (int s = 0; s < originalStages(); ++s) flushed_[s] = -1;
  replan_lost_.clear();
  checkpoints_.clear();
  start_checkpoint_.reset();
  if (redundancy_ == 0) {
    // The first checkpoint is the starting model (the seed's, or the one handed over), keyed
    // when the first iteration says where the run stands. It costs nothing on the wire.
    Checkpoint start;
    for (const auto& info : layers_) start.layers.insert(info.name);
    if (initial_state_.tensors_size() > 0) {
      auto w = fromBlob(initial_state_);
      if (!w) return w.status();
      start.weights = std::move(w).value();
      if (initial_optimizer_.tensors_size() > 0) {
        auto m = fromBlob(initial_optimizer_);
        if (!m) return m.status();
        start.momentum = std::move(m).value();
      }
    } else {
      auto chain = LayerChain::build(ctx_.config().model, ctx_.config().seed);
      if (!chain) return chain.status();
      start.weights = stateOf(*StageModule(*chain, 0, chain->numLayers()));
    }
    start_checkpoint_ = std::move(start);
  }
  return Status::ok();
}

Status RespipeCoordinator::takeLost() {
  for (int d : ctx_.takeLost()) {
    for (int s = 0; s < originalStages(); ++s) {
      if (start_devices_[static_cast<size_t>(s)] != d || !active(s)) continue;
      if (redundancy_ == 0) {  // recovered through a re-plan, from the controller's checkpoint
        replan_lost_.insert(d);
        continue;
      }
      if (s == 0 || s == originalStages() - 1 || !routing_) {
        return unavailable("device " + ctx_.deviceName(d) + " (stage " + std::to_string(s) +
                           ") was lost; respipe routes around a middle stage only, with " +
                           "redundancy >= 1 and a deadline (this run: redundancy " +
                           std::to_string(redundancy_) + ", deadlineMs " +
                           std::to_string(ctx_.params().getInt("deadlineMs")) + ")");
      }
      // Its predecessor routes around it and takes it over, on its own: told of the loss here,
      // it routes at once and takes over at its next flush (without it, after F misses). If the
      // iteration stalls instead, the controller takes it over (runStep, recoverLost).
      if (lost_.try_emplace(s, Clock::now()).second) {
        int before = s - 1;
        while (before > 0 && !active(before)) --before;
        pipeline::SuccessorLost told;
        told.set_stage(s);
        ctx_.send(start_devices_[static_cast<size_t>(before)],
                  algoMessage(bridge::TrafficKind::kControl, told));
      }
    }
  }
  return Status::ok();
}

std::chrono::milliseconds RespipeCoordinator::routeGrace() const {
  // Routing around a lost stage costs one deadline (the micro-batches' timers run side by side)
  // and the rest of the pipeline's work; an iteration that routing can finish ends well within.
  const auto tau = std::chrono::milliseconds(ctx_.params().getInt("deadlineMs"));
  return std::max<std::chrono::milliseconds>(std::chrono::seconds(2), 4 * tau);
}

void RespipeCoordinator::applyTakeOver(const pipeline::TakeOver& t, int64_t iteration) {
  bypassing_[t.stage()] = 0;  // it runs the stage it bypassed now: not a bypass that ended
  const int taken = t.taken();
  if (taken <= 0 || taken >= originalStages() || !active(taken)) return;
  merged_.insert(taken);
  lost_.erase(taken);
  StagePlan shrunk;
  device_of_stage_.clear();
  for (int s = 0; s < originalStages(); ++s) {
    if (!active(s)) continue;
    shrunk.boundaries.push_back(start_plan_.boundaries[static_cast<size_t>(s)]);
    device_of_stage_.push_back(start_devices_[static_cast<size_t>(s)]);
  }
  shrunk.boundaries.push_back(start_plan_.boundaries.back());
  plan_ = shrunk;
  const int by = start_devices_[static_cast<size_t>(t.stage())];
  const int replaced = start_devices_[static_cast<size_t>(taken)];
  const std::string why =
      ctx_.deviceName(by) + " took over " + ctx_.deviceName(replaced) + "'s layers " +
      (t.lost() ? "when told it was lost (" + std::to_string(t.misses()) + " missed deadlines)"
                : "after " + std::to_string(t.misses()) + " missed deadlines");
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_, why);
  const std::string cuts = joined(plan_->cuts());
  namespace f = events::fields;
  ctx_.event(std::string(events::kTakeover),
             why + " (its replica had seen " + std::to_string(t.replica_iteration()) +
                 " mini-batches); the plan is now " + plan_->describe(layers_),
             by,
             {{std::string(f::kDevice), ctx_.deviceName(by)},
              {std::string(f::kReplaced), ctx_.deviceName(replaced)},
              {std::string(f::kMisses), std::to_string(t.misses())},
              {std::string(f::kReason), t.lost() ? "lost" : "missed deadlines"},
              {std::string(f::kCuts), cuts},
              {std::string(f::kIteration), std::to_string(std::max(iteration, t.iteration()))}});
}

void RespipeCoordinator::noteBypass(int stage, int device, int bypassing, int deadline_ms,
                                    int64_t iteration) {
  int& was = bypassing_[stage];
  if (was == bypassing) return;
  const int target = bypassing > 0 ? bypassing : was;
  was = bypassing;
  if (target <= 0 || target >= originalStages()) return;
  const int replaced = start_devices_[static_cast<size_t>(target)];
  namespace f = events::fields;
  const std::string stage_name =
      "stage " + std::to_string(target) + " (" + ctx_.deviceName(replaced) + ")";
  ctx_.event(std::string(bypassing > 0 ? events::kBypassed : events::kBypassEnded),
             bypassing > 0
                 ? stage_name + " kept missing its " + std::to_string(deadline_ms) +
                       " ms deadline: " + ctx_.deviceName(device) +
                       " routes every micro-batch around it at once (and probes it with each)"
                 : stage_name + " answered every probe of an iteration within half its " +
                       std::to_string(deadline_ms) + " ms deadline (all of it after " +
                       std::to_string(kRespipeLongBypassIterations) +
                       " iterations bypassed): no longer bypassed",
             device,
             {{std::string(f::kDevice), ctx_.deviceName(device)},
              {std::string(f::kReplaced), ctx_.deviceName(replaced)},
              {std::string(f::kIteration), std::to_string(iteration)}});
}

Result<StepResult> RespipeCoordinator::trainStep(int64_t iteration) {
  keyStartCheckpoint(iteration);
  auto started = Clock::now();  // of the attempt a loss interrupts
  for (int attempt = 0;; ++attempt) {
    if (auto st = takeLost(); !st) return st;
    if (redundancy_ == 0) {
      storeCheckpoints();
      if (!replan_lost_.empty()) {
        if (attempt >= ctx_.numDevices()) {
          return unavailable("iteration " + std::to_string(iteration) +
                             " lost a stage again after " + std::to_string(attempt) +
                             " recoveries through a re-plan; see the events before this error");
        }
        if (auto st = recoverByReplan(iteration, started); !st) return st;
        started = Clock::now();
      }
    }
    std::optional<Clock::time_point> stalled;
    auto result = runStep(iteration, stalled);
    if (!result && !replan_lost_.empty()) continue;  // r = 0: recover, then run it again
    if (!stalled) return result;
    if (attempt >= originalStages()) {
      return unavailable("iteration " + std::to_string(iteration) + " stalled " +
                         std::to_string(attempt + 1) +
                         " times after a lost stage, though the controller restarted the "
                         "pipeline each time; see the events before this error");
    }
    // The stages start again from what they hold now (the stages after the lost one may have
    // applied this iteration already: our design, as ftpipehd's recovery) and run it again.
    const std::string why = "routing around it had not finished iteration " +
                            std::to_string(iteration) + " " +
                            seconds(routeGrace().count() / 1000.0) + " s after the loss";
    if (auto st = recoverLost(iteration - 1, *stalled, why); !st) return st;
  }
}

Result<StepResult> RespipeCoordinator::runStep(int64_t iteration,
                                               std::optional<Clock::time_point>& stalled) {
  const auto& cfg = ctx_.config();
  const auto started = Clock::now();
  const std::vector<int64_t> indices =
      EpochSampler(train_size_, cfg.batch_size, cfg.seed).batch(dataIteration(iteration));
  pipeline::Step step;
  step.set_iteration(iteration);
  step.set_mode(wire::STEP_MODE_TRAIN);
  step.set_micro_batches(micro_batches_);
  *step.mutable_indices() = {indices.begin(), indices.end()};
  ctx_.send(start_devices_.front(), algoMessage(bridge::TrafficKind::kControl, step));
  last_iteration_ = iteration;

  StepResult result;
  std::map<int, DeviceStep> per_stage;
  std::set<int> waiting;
  for (int s = 0; s < originalStages(); ++s) {
    if (active(s)) waiting.insert(s);
  }
  std::map<int, int> routed;  // per device
  int discarded = 0;
  const auto deadline = Clock::now() + step_timeout_;
  // From the first loss this iteration sees (or its start, for a loss not yet taken over), the
  // iteration has routeGrace() to end. A stage that died holding micro-batches it had already
  // acknowledged leaves its predecessor waiting for their gradients, which no deadline covers.
  std::optional<Clock::time_point> loss;
  while (!waiting.empty()) {
    for (const auto& [s, at] : lost_) {
      const auto from = std::max(at, started);
      loss = loss ? std::min(*loss, from) : from;
    }
    auto wait = leftUntil(deadline);
    if (loss) wait = std::min(wait, leftUntil(*loss + routeGrace()));
    auto msg = ctx_.await(
        [iteration](const DeviceMessage& m) {
          if (bodyIn<pipeline::TakeOver>(m)) return true;
          auto d = bodyIn<pipeline::StepDone>(m);
          return d && d->mode() == wire::STEP_MODE_TRAIN && d->iteration() <= iteration;
        },
        wait, "iteration " + std::to_string(iteration));
    if (!msg) {
      if (msg.status().code() == StatusCode::kTimeout && loss &&
          Clock::now() >= *loss + routeGrace()) {
        stalled = *loss;
        return msg.status();
      }
      if (msg.status().code() != StatusCode::kUnavailable) return msg.status();
      if (auto st = takeLost(); !st) return st;
      if (!replan_lost_.empty()) return msg.status();  // r = 0: trainStep recovers
      continue;
    }
    if (auto t = bodyIn<pipeline::TakeOver>(*msg)) {
      applyTakeOver(*t, iteration);
      waiting.erase(t->taken());
      continue;
    }
    const auto d = *bodyIn<pipeline::StepDone>(*msg);
    const int s = d.stage();
    if (s < 0 || s >= originalStages()) continue;
    flushed_[s] = std::max(flushed_[s], d.iteration());
    discarded += d.discarded();
    discarded_total_[msg->device] += d.discarded();
    skipped_total_[msg->device] += d.skipped();
    if (d.iteration() < iteration || !active(s)) continue;  // a stage catching up
    waiting.erase(s);
    for (int around : d.routed_around()) waiting.erase(around);
    noteBypass(s, msg->device, d.bypassing(), d.deadline_ms(), iteration);
    routed[msg->device] += d.routed();
    DeviceStep ds{msg->device};
    ds.compute_s = d.compute_s();
    ds.samples = d.samples();
    if (s == originalStages() - 1) {
      result.samples = d.samples();
      result.loss = d.samples() > 0 ? d.loss_sum() / d.samples() : 0;
      result.accuracy = d.samples() > 0 ? static_cast<double>(d.correct()) / d.samples() : 0;
      ds.loss = result.loss;
      ds.accuracy = result.accuracy;
    }
    per_stage[s] = ds;
  }
  for (int s = 0; s < originalStages(); ++s) {
    if (!active(s)) continue;
    auto it = per_stage.find(s);
    result.devices.push_back(
        it != per_stage.end() ? it->second : DeviceStep{start_devices_[static_cast<size_t>(s)]});
  }
  // Routed-around micro-batches per second, by the device that ran them on its replica.
  const double took = std::max(1e-6, std::chrono::duration<double>(Clock::now() - started).count());
  for (int s = 0; s < originalStages(); ++s) {
    const int dev = start_devices_[static_cast<size_t>(s)];
    if (!active(s) && !routed.count(dev)) continue;
    routed_total_[dev] += routed[dev];
    ctx_.metric("routed_per_s", routed[dev] / took, dev);
    ctx_.metric("routed_total", static_cast<double>(routed_total_[dev]), dev);
    ctx_.metric("late_discarded", static_cast<double>(discarded_total_[dev]), dev);
    ctx_.metric("forwards_skipped", static_cast<double>(skipped_total_[dev]), dev);
  }
  if (discarded > 0) {
    namespace f = events::fields;
    ctx_.event(std::string(events::kLateDiscarded),
               std::to_string(discarded) +
                   " late results discarded: their replacements, run on replicas, were used",
               -1,
               {{std::string(f::kCount), std::to_string(discarded)},
                {std::string(f::kIteration), std::to_string(iteration)}});
  }
  return result;
}

Status RespipeCoordinator::catchUp() {
  if (auto st = takeLost(); !st) return st;
  // A take-over its predecessor has already sent settles it.
  while (!lost_.empty()) {
    auto msg =
        ctx_.await([](const DeviceMessage& m) { return bodyIn<pipeline::TakeOver>(m).has_value(); },
                   std::chrono::milliseconds(0), "take-overs");
    if (!msg) break;
    applyTakeOver(*bodyIn<pipeline::TakeOver>(*msg), last_iteration_);
  }
  // A lost stage never catches up, and evaluations are not routed: take it over first.
  auto settleLost = [this]() -> Status {
    if (!replan_lost_.empty()) return recoverByReplan(last_iteration_ + 1, Clock::now());
    if (lost_.empty()) return Status::ok();
    const std::string why =
        "it was not taken over yet, and a lost stage never catches up before an evaluation or a "
        "gathering of the model";
    return recoverLost(last_iteration_, lost_.begin()->second, why);
  };
  if (auto st = settleLost(); !st) return st;
  const auto deadline = Clock::now() + kCatchUpTimeout;
  bool caught_up = false;  // a StepDone counted discarded or skipped results
  for (int s = 0; s < originalStages(); ++s) {
    while (active(s) && flushed_[s] < last_iteration_) {
      auto msg = ctx_.await(
          [](const DeviceMessage& m) {
            if (bodyIn<pipeline::TakeOver>(m)) return true;
            auto d = bodyIn<pipeline::StepDone>(m);
            return d && d->mode() == wire::STEP_MODE_TRAIN;
          },
          leftUntil(deadline), "stage " + std::to_string(s) + " catching up");
      if (!msg) {
        if (msg.status().code() != StatusCode::kUnavailable) return msg.status();
        if (auto st = takeLost(); !st) return st;
        if (auto st = settleLost(); !st) return st;
        continue;
      }
      if (auto t = bodyIn<pipeline::TakeOver>(*msg)) {
        applyTakeOver(*t, last_iteration_);
        continue;
      }
      const auto d = *bodyIn<pipeline::StepDone>(*msg);
      if (d.stage() >= 0 && d.stage() < originalStages()) {
        flushed_[d.stage()] = std::max(flushed_[d.stage()], d.iteration());
        discarded_total_[msg->device] += d.discarded();
        skipped_total_[msg->device] += d.skipped();
        caught_up = caught_up || d.discarded() > 0 || d.skipped() > 0;
      }
    }
  }
  // What a stage that was routed around counted while catching up (after the last iteration
  // the run waited for, when the run routed around it to the end) is in the totals too.
  if (caught_up) {
    for (int s = 0; s < originalStages(); ++s) {
      const int dev = start_devices_[static_cast<size_t>(s)];
      if (!active(s)) continue;
      ctx_.metric("late_discarded", static_cast<double>(discarded_total_[dev]), dev);
      ctx_.metric("forwards_skipped", static_cast<double>(skipped_total_[dev]), dev);
    }
  }
  return Status::ok();
}

Result<EvalResult> RespipeCoordinator::evaluate(int64_t samples) {
  for (int attempt = 0;; ++attempt) {
    auto result = evaluateOnce(samples);
    // A stage lost during the evaluation is recovered (catchUp: r = 0 through a re-plan, on the
    // model rolled back to the checkpoint; r >= 1 by a take-over) and the evaluation runs again.
    if (result || (replan_lost_.empty() && lost_.empty()) || attempt >= ctx_.numDevices()) {
      return result;
    }
  }
}

Result<EvalResult> RespipeCoordinator::evaluateOnce(int64_t samples) {
  if (auto st = catchUp(); !st) return st;
  int k = 0;
  for (int s = 0; s < originalStages(); ++s) k += active(s) ? 1 : 0;
  const int n_stages = originalStages();
  const int64_t n = samples > 0 ? std::min(samples, test_size_) : test_size_;
  auto batches = evalBatches(n, kEvalBatch);
  EvalResult result;
  double loss_sum = 0;
  int64_t correct = 0;
  size_t sent = 0;
  int64_t outstanding = 0;
  const int64_t first_id = kEvalIdBase + eval_counter_;
  eval_counter_ += static_cast<int64_t>(batches.size());
  auto sendNext = [&] {
    pipeline::Step step;
    step.set_iteration(first_id + static_cast<int64_t>(sent));
    step.set_mode(wire::STEP_MODE_EVAL);
    step.set_micro_batches(micro_batches_);
    *step.mutable_indices() = {batches[sent].begin(), batches[sent].end()};
    ctx_.send(start_devices_.front(), algoMessage(bridge::TrafficKind::kControl, step));
    ++sent;
    outstanding += k;
  };
  while (sent < batches.size() && sent < static_cast<size_t>(kEvalInFlight)) sendNext();
  while (outstanding > 0) {
    auto msg = ctx_.await(
        [first_id](const DeviceMessage& m) {
          auto d = bodyIn<pipeline::StepDone>(m);
          return d && d->iteration() >= first_id && d->mode() == wire::STEP_MODE_EVAL;
        },
        step_timeout_, "evaluation");
    if (!msg) {
      if (msg.status().code() != StatusCode::kUnavailable) return msg.status();
      // A device whose stage was taken over takes no part in it: wait on. A lost stage that
      // does is recovered by the next catchUp (r = 0 through a re-plan, r >= 1 by the
      // controller's take-over), and evaluate() runs the evaluation again.
      if (auto st = takeLost(); !st) return st;
      if (!replan_lost_.empty() || !lost_.empty()) return msg.status();
      continue;
    }
    const auto d = *bodyIn<pipeline::StepDone>(*msg);
    if (d.stage() < 0 || d.stage() >= n_stages || !active(d.stage())) continue;
    --outstanding;
    if (d.stage() == n_stages - 1) {
      loss_sum += d.loss_sum();
      correct += d.correct();
      result.samples += d.samples();
      if (sent < batches.size()) sendNext();
    }
  }
  if (result.samples > 0) {
    result.loss = loss_sum / result.samples;
    result.accuracy = static_cast<double>(correct) / result.samples;
  }
  return result;
}

Result<wire::ModelStateBlob> RespipeCoordinator::gatherState() {
  if (auto st = catchUp(); !st) return st;
  return PipelineCoordinator::gatherState();  // over the active stages, in plan order
}

Result<Coordinator::Handover> RespipeCoordinator::gatherHandover() {
  // A restart or a switch: the model after every iteration run, without a lost stage.
  if (auto st = catchUp(); !st) return st;
  return PipelineCoordinator::gatherHandover();
}

Status RespipeCoordinator::recoverLost(int64_t done_through, Clock::time_point lost_at,
                                       const std::string& reason) {
  // Another device lost meanwhile starts it again over the stages left.
  for (int attempt = 0;; ++attempt) {
    Status st = recoverOnce(done_through, lost_at, reason);
    if (st || st.code() != StatusCode::kUnavailable || attempt >= originalStages()) return st;
    if (auto taken = takeLost(); !taken) return taken;
  }
}

Status RespipeCoordinator::recoverOnce(int64_t done_through, Clock::time_point lost_at,
                                       const std::string& reason) {
  const auto started = Clock::now();
  const int k = originalStages();
  std::vector<int> kept;  // stages (as the workers number them) whose device lives
  std::vector<int> gone;
  for (int s = 0; s < k; ++s) {
    if (!active(s)) continue;
    (ctx_.alive(start_devices_[static_cast<size_t>(s)]) ? kept : gone).push_back(s);
  }
  auto nameOf = [&](int s) { return ctx_.deviceName(start_devices_[static_cast<size_t>(s)]); };
  auto activeBefore = [&](int s) {  // the active stage before s, which holds its replica; or -1
    int before = -1;
    for (int q = 0; q < s; ++q) before = active(q) ? q : before;
    return before;
  };
  std::string gone_names;
  for (int s : gone) gone_names += (gone_names.empty() ? "" : ", ") + nameOf(s);
  // Each lost stage goes to the active stage before it, which holds its replica: it must live.
  for (int s : gone) {
    const int before = activeBefore(s);
    if (s == 0 || s == k - 1 || before < 0) {
      return unavailable("device " + nameOf(s) + " (stage " + std::to_string(s) +
                         ") was lost; respipe routes around a middle stage only");
    }
    if (!ctx_.alive(start_devices_[static_cast<size_t>(before)])) {
      return unavailable("devices " + nameOf(before) + " and " + nameOf(s) + " (stages " +
                         std::to_string(before) + " and " + std::to_string(s) +
                         ", one after the other) were both lost; each stage keeps a replica of " +
                         "the next one only, so " + nameOf(s) + "'s layers are gone");
    }
  }
  // The survivors' weights and momentum.
  std::map<std::string, torch::Tensor> weights, momentum;
  {
    std::vector<int> kept_devices;
    for (int s : kept) kept_devices.push_back(start_devices_[static_cast<size_t>(s)]);
    ModelState w, m;
    if (auto st = fetchStates(kept_devices, kRecoveryTimeout,
                              "the stages' weights, to take over " + gone_names, w, m);
        !st) {
      return st;
    }
    weights.insert(w.begin(), w.end());
    momentum.insert(m.begin(), m.end());
  }
  // Each lost stage's layers from its predecessor's replica (unless the predecessor took them
  // over itself meanwhile: then its own weights, already gathered, are newer).
  std::string sources;
  for (int s : gone) {
    const int holder = start_devices_[static_cast<size_t>(activeBefore(s))];  // checked above
    // Its layers: its own and those of the stages it took over (up to the next active stage).
    int span_end = s + 1;
    while (span_end < k && !active(span_end)) ++span_end;
    const int first_layer = start_plan_.first(s);
    const int last_layer = start_plan_.boundaries[static_cast<size_t>(span_end)];
    std::vector<std::string> names;
    for (int l = first_layer; l < last_layer; ++l) {
      names.push_back(layers_[static_cast<size_t>(l)].name);
    }
    auto copy = fetchReplica(holder, names, kRecoveryTimeout,
                             ctx_.deviceName(holder) + "'s replica of " + nameOf(s) + "'s layers");
    if (!copy) return copy.status();
    std::string source = "none";
    if (*copy) {
      for (const auto& [name, t] : (*copy)->tensors) {
        (name.ends_with(".momentum") ? momentum : weights).emplace(name, t);
      }
      source = ctx_.deviceName(holder) + "'s replica after " + std::to_string((*copy)->iteration) +
               " mini-batches";
    }
    // Every layer with parameters must now have its tensors.
    for (int l = first_layer; l < last_layer; ++l) {
      const auto& info = layers_[static_cast<size_t>(l)];
      if (info.parameters == 0) continue;
      bool found = false;
      for (const auto& [name, t] : weights) found = found || layerOfTensor(name) == info.name;
      if (!found) {
        return unavailable("device " + nameOf(s) + " (stage " + std::to_string(s) +
                           ") was lost and " + ctx_.deviceName(holder) +
                           " holds no replica of its layer " + info.name + " (redundancy " +
                           std::to_string(redundancy_) +
                           "); its weights are gone, so the run stops");
      }
    }
    sources += (sources.empty() ? "" : "; ") + nameOf(s) + "'s layers from " + source;
  }
  // The new plan: the survivors in order, each lost stage's layers added to the one before it.
  StagePlan plan;
  std::vector<int> devices;
  for (int s : kept) {
    plan.boundaries.push_back(start_plan_.boundaries[static_cast<size_t>(s)]);
    devices.push_back(start_devices_[static_cast<size_t>(s)]);
  }
  plan.boundaries.push_back(start_plan_.boundaries.back());
  if (Status st = restartStages(plan, devices, toBlob(ModelState(weights.begin(), weights.end())),
                                toBlob(ModelState(momentum.begin(), momentum.end())));
      !st) {
    return st;
  }
  // The workers number their stages by this plan from now on.
  start_plan_ = *plan_;
  start_devices_ = device_of_stage_;
  merged_.clear();
  lost_.clear();
  flushed_.clear();
  for (int s = 0; s < originalStages(); ++s) flushed_[s] = done_through;
  const double took = std::chrono::duration<double>(Clock::now() - started).count();
  const double detection = std::chrono::duration<double>(started - lost_at).count();
  const std::string why = gone.empty()
                              ? std::string("the controller restarted the pipeline")
                              : "the controller took over " + gone_names + " (" + sources + ")";
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_, why);
  std::string left;
  for (int d : device_of_stage_) left += (left.empty() ? "" : " ") + ctx_.deviceName(d);
  // Nothing is replayed: the interrupted iteration runs again (it had not ended).
  recovered({why + ": " + reason + ", so the pipeline restarted on " + left + " in " +
                 seconds(took) + " s; the plan is now " + plan_->describe(layers_),
             left, detection, took, sources, 0, done_through + 1});
  return Status::ok();
}

}  // namespace edgerig
