#include "core/algorithms/pipeline/respipe/respipe_coordinator.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/algorithms/algo_message.h"
#include "core/data/sampler.h"
#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kCatchUpTimeout = std::chrono::seconds(60);
constexpr int64_t kEvalBatch = 500;
constexpr int kEvalInFlight = 2;
constexpr int64_t kEvalIdBase = int64_t{1} << 40;  // as PipelineCoordinator's

template <typename T>
std::optional<T> bodyIn(const DeviceMessage& m) {
  if (!m.env.has_algo() || !bodyIs<T>(m.env.algo())) return std::nullopt;
  auto body = bodyAs<T>(m.env.algo());
  if (!body) return std::nullopt;
  return *body;
}

std::chrono::milliseconds leftUntil(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

Status RespipeCoordinator::setup() {
  redundancy_ = static_cast<int>(ctx_.params().getInt("redundancy"));
  routing_ = ctx_.params().getInt("deadlineMs") > 0 && redundancy_ > 0;
  merged_.clear();
  flushed_.clear();
  last_iteration_ = -1;
  if (auto st = PipelineCoordinator::setup(); !st) return st;
  start_plan_ = *plan_;
  start_devices_ = device_of_stage_;
  for (int s = 0; s < originalStages(); ++s) flushed_[s] = -1;
  return Status::ok();
}

Status RespipeCoordinator::takeLost() {
  for (int d : ctx_.takeLost()) {
    for (int s = 0; s < originalStages(); ++s) {
      if (start_devices_[static_cast<size_t>(s)] != d || !active(s)) continue;
      if (s == 0 || s == originalStages() - 1 || !routing_) {
        return unavailable("device " + ctx_.deviceName(d) + " (stage " + std::to_string(s) +
                           ") was lost; respipe routes around a middle stage only, with " +
                           "redundancy >= 1 and a deadline (this run: redundancy " +
                           std::to_string(redundancy_) + ", deadlineMs " +
                           std::to_string(ctx_.params().getInt("deadlineMs")) + ")");
      }
      // Its predecessor routes around it and takes it over after F misses, on its own.
    }
  }
  return Status::ok();
}

void RespipeCoordinator::applyTakeOver(const pipeline::TakeOver& t, int64_t iteration) {
  const int taken = t.taken();
  if (taken <= 0 || taken >= originalStages() || !active(taken)) return;
  merged_.insert(taken);
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
  const std::string why = ctx_.deviceName(by) + " took over " + ctx_.deviceName(replaced) +
                          "'s layers after " + std::to_string(t.misses()) + " missed deadlines";
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_, why);
  std::string cuts;
  for (int c : plan_->cuts()) cuts += (cuts.empty() ? "" : " ") + std::to_string(c);
  namespace f = events::fields;
  ctx_.event(std::string(events::kTakeover),
             why + " (its replica had seen " + std::to_string(t.replica_iteration()) +
                 " mini-batches); the plan is now " + plan_->describe(layers_),
             by,
             {{std::string(f::kDevice), ctx_.deviceName(by)},
              {std::string(f::kReplaced), ctx_.deviceName(replaced)},
              {std::string(f::kMisses), std::to_string(t.misses())},
              {std::string(f::kCuts), cuts},
              {std::string(f::kIteration), std::to_string(std::max(iteration, t.iteration()))}});
}

Result<StepResult> RespipeCoordinator::trainStep(int64_t iteration) {
  if (auto st = takeLost(); !st) return st;
  const auto& cfg = ctx_.config();
  const auto started = Clock::now();
  const std::vector<int64_t> indices =
      EpochSampler(train_size_, cfg.batch_size, cfg.seed).batch(iteration);
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
  while (!waiting.empty()) {
    auto msg = ctx_.await(
        [iteration](const DeviceMessage& m) {
          if (bodyIn<pipeline::TakeOver>(m)) return true;
          auto d = bodyIn<pipeline::StepDone>(m);
          return d && d->mode() == wire::STEP_MODE_TRAIN && d->iteration() <= iteration;
        },
        leftUntil(deadline), "iteration " + std::to_string(iteration));
    if (!msg) {
      if (msg.status().code() != StatusCode::kUnavailable) return msg.status();
      if (auto st = takeLost(); !st) return st;
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
    if (d.iteration() < iteration || !active(s)) continue;  // a stage catching up
    waiting.erase(s);
    for (int around : d.routed_around()) waiting.erase(around);
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
  const auto deadline = Clock::now() + kCatchUpTimeout;
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
        continue;
      }
      if (auto t = bodyIn<pipeline::TakeOver>(*msg)) {
        applyTakeOver(*t, last_iteration_);
        continue;
      }
      const auto d = *bodyIn<pipeline::StepDone>(*msg);
      if (d.stage() >= 0 && d.stage() < originalStages()) {
        flushed_[d.stage()] = std::max(flushed_[d.stage()], d.iteration());
      }
    }
  }
  return Status::ok();
}

Result<EvalResult> RespipeCoordinator::evaluate(int64_t samples) {
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
      if (msg.status().code() == StatusCode::kUnavailable) {
        ctx_.takeLost();
        return unavailable(msg.status().message() +
                           "; respipe does not route evaluations, so this one stops");
      }
      return msg.status();
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

}  // namespace edgerig
