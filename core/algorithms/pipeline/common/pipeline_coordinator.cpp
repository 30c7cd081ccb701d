#include "core/algorithms/pipeline/common/pipeline_coordinator.h"

#include <algorithm>
#include <numeric>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/common/event_text.h"
#include "core/data/sampler.h"
#include "core/model/layer_chain.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"
#include "pipeline.pb.h"

namespace edgerig {
namespace {

constexpr auto kSetupTimeout = std::chrono::seconds(120);
constexpr int64_t kEvalBatch = 500;
constexpr int kEvalInFlight = 2;  // bounds the activations queued between stages
// How long an evaluation waits for each answer, at least. Not ftpipehd's backward deadline
// (step_timeout_ there), which is for training steps, where a miss is recovered from: a
// 500-sample batch through the pipeline can take longer than that on a loaded machine, and an
// evaluation's time-out fails the run. A lost device still ends the wait at once.
constexpr auto kEvalAnswerTimeout = std::chrono::seconds(60);
// Evaluation steps get ids far from training iterations so that the two never collide.
constexpr int64_t kEvalIdBase = int64_t{1} << 40;

}  // namespace

void PipelineCoordinator::capacitiesFromProfiles(
    const std::vector<std::vector<double>>& layer_times, std::vector<double>& reference,
    std::vector<double>& capacity) {
  std::vector<double> totals;
  for (const auto& t : layer_times) totals.push_back(std::accumulate(t.begin(), t.end(), 0.0));
  const size_t fastest = std::min_element(totals.begin(), totals.end()) - totals.begin();
  reference = layer_times[fastest];
  capacity.clear();
  for (double t : totals) capacity.push_back(t > 0 ? totals[fastest] / t : 1.0);
}

int64_t PipelineCoordinator::iterationsPerEpoch() const {
  return EpochSampler(train_size_, ctx_.config().batch_size, ctx_.config().seed).batchesPerEpoch();
}

Status PipelineCoordinator::lostDevice(const Status& lost) {
  ctx_.takeLost();
  return Status(lost.code(), lost.message() + "; " + ctx_.config().algorithm.name +
                                 " has no fault tolerance, so the run stops");
}

int PipelineCoordinator::stageOf(int device) const {
  for (size_t s = 0; s < device_of_stage_.size(); ++s) {
    if (device_of_stage_[s] == device) return static_cast<int>(s);
  }
  return -1;
}

Status PipelineCoordinator::setup() {
  const auto& cfg = ctx_.config();
  micro_batches_ = static_cast<int>(ctx_.params().getInt("microBatches"));
  if (auto lost = ctx_.takeLost(); !lost.empty()) {
    return unavailable("device " + ctx_.deviceName(lost.front()) + " is lost; " +
                       ctx_.config().algorithm.name + " needs every device, so the run stops");
  }
  auto chain = LayerChain::build(cfg.model, cfg.seed);
  if (!chain) return chain.status();
  layers_ = chain->infos();
  const int k = ctx_.numDevices();
  if (k > static_cast<int>(layers_.size())) {
    return invalidArgument("model '" + cfg.model + "' has " + std::to_string(layers_.size()) +
                           " layers, too few for a pipeline of " + std::to_string(k) +
                           " stages; use fewer devices or a deeper model (vgg)");
  }
  device_of_stage_.resize(static_cast<size_t>(k));
  std::iota(device_of_stage_.begin(), device_of_stage_.end(), 0);
  if (auto st = profileDevices(); !st) return st;
  if (auto st = choosePlan(); !st) return st;
  return startStages();
}

Status PipelineCoordinator::profileDevices() {
  const auto& cfg = ctx_.config();
  const int k = ctx_.numDevices();
  // Stages compute one micro-batch at a time, so that is what is timed; times are scaled
  // to a whole mini-batch for the plan.
  const int micro = std::max(1, cfg.batch_size / std::max(1, micro_batches_));
  const double scale = static_cast<double>(cfg.batch_size) / micro;
  for (int d = 0; d < k; ++d) {
    wire::Envelope env;
    auto* p = env.mutable_profile_request();
    p->set_model(cfg.model);
    p->set_batch_size(micro);
    p->set_repetitions(kProfileRepetitions);
    p->set_seed(cfg.seed);
    ctx_.sendControl(d, std::move(env));
  }
  std::vector<std::vector<double>> times(k);
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await([](const DeviceMessage& m) { return m.env.has_profile_result(); },
                          kSetupTimeout, "layer profiles");
    if (!msg) return msg.status();
    const auto& r = msg->env.profile_result();
    if (r.layers_size() != static_cast<int>(layers_.size())) {
      return invalidArgument("device " + ctx_.deviceName(msg->device) + " profiled " +
                             std::to_string(r.layers_size()) + " layers, expected " +
                             std::to_string(layers_.size()));
    }
    for (const auto& l : r.layers()) times[msg->device].push_back(l.forward_backward_s() * scale);
  }
  capacitiesFromProfiles(times, reference_time_s_, capacity_);
  for (int d = 0; d < k; ++d) ctx_.setCapacity(d, capacity_[d]);
  return Status::ok();
}

Status PipelineCoordinator::choosePlan() {
  const int k = ctx_.numDevices();
  const int l = static_cast<int>(layers_.size());
  const IntList cut_list = ctx_.params().getIntList("cuts");
  const std::string plan_kind = ctx_.params().getString("plan");
  std::string why;
  if (!cut_list.empty()) {
    auto p = StagePlan::fromCuts(l, std::vector<int>(cut_list.begin(), cut_list.end()));
    if (!p) return p.status();
    if (p->numStages() != k) {
      return invalidArgument("algorithm.cuts makes " + std::to_string(p->numStages()) +
                             " stages but the run has " + std::to_string(k) + " devices");
    }
    plan_ = *p;
    why = "explicit cuts";
  } else {
    std::vector<double> stage_capacity;
    for (int d : device_of_stage_) stage_capacity.push_back(capacity_[static_cast<size_t>(d)]);
    auto p = planOfKind(stage_capacity);
    if (!p) return p.status();
    plan_ = *p;
    why = plan_kind == "balanced"    ? "balanced plan from measured capacities"
          : plan_kind == "even-cost" ? "even plan by profiled cost"
                                     : "even plan";
  }
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_, why);
  return Status::ok();
}

Result<StagePlan> PipelineCoordinator::planOfKind(const std::vector<double>& capacity) const {
  const std::string kind = ctx_.params().getString("plan");
  if (kind == "balanced") return balancedPlan(planInputs(capacity));
  if (kind == "even-cost")
    return evenCostPlan(reference_time_s_, static_cast<int>(capacity.size()));
  return evenPlan(static_cast<int>(layers_.size()), static_cast<int>(capacity.size()));
}

PlanInputs PipelineCoordinator::planInputs(const std::vector<double>& capacity) const {
  PlanInputs in;
  in.layer_time_s = reference_time_s_;
  for (const auto& info : layers_)
    in.activation_bytes.push_back(info.activation_bytes * ctx_.config().batch_size);
  in.capacity = capacity;
  for (int s = 0; s + 1 < numStages(); ++s)
    in.bandwidth_bytes_per_s.push_back(ctx_.linkBandwidth(deviceOf(s), deviceOf(s + 1)));
  return in;
}

Status PipelineCoordinator::restartStages(const StagePlan& plan, std::vector<int> devices,
                                          wire::ModelStateBlob weights,
                                          wire::ModelStateBlob momentum) {
  plan_ = plan;
  device_of_stage_ = std::move(devices);
  initial_state_ = std::move(weights);
  initial_optimizer_ = std::move(momentum);
  Status st = startStages();
  initial_state_.Clear();
  initial_optimizer_.Clear();
  return st;
}

Status PipelineCoordinator::startStages() {
  const int k = numStages();
  std::vector<WorkerLaunch> launches;
  for (int s = 0; s < k; ++s) {
    pipeline::StageSetup setup;
    setup.set_stage(s);
    setup.set_num_stages(k);
    setup.set_first_layer(plan_->first(s));
    setup.set_last_layer(plan_->last(s));
    for (int d : device_of_stage_) setup.add_device_of_stage(d);
    for (int b : plan_->boundaries) setup.add_boundaries(b);
    setup.set_micro_batches(micro_batches_);
    WorkerLaunch launch;
    launch.device = deviceOf(s);
    launch.setup.PackFrom(setup);
    if (initial_state_.tensors_size() > 0) launch.initial_state = stageSlice(initial_state_, s);
    if (initial_optimizer_.tensors_size() > 0) {
      launch.initial_optimizer = stageSlice(initial_optimizer_, s);
    }
    launches.push_back(std::move(launch));
  }
  auto readies = ctx_.startWorkers(std::move(launches), kSetupTimeout);
  if (!readies) {
    return readies.status().code() == StatusCode::kUnavailable ? lostDevice(readies.status())
                                                               : readies.status();
  }
  train_size_ = readies->front().train_size();  // stage 0 holds the data
  test_size_ = readies->front().test_size();
  if (train_size_ < ctx_.config().batch_size) {
    return invalidArgument("the training split has " + std::to_string(train_size_) +
                           " samples, fewer than one batch of " +
                           std::to_string(ctx_.config().batch_size));
  }
  return Status::ok();
}

Result<StepResult> PipelineCoordinator::trainStep(int64_t iteration) {
  if (auto lost = ctx_.takeLost(); !lost.empty()) {
    return lostDevice(unavailable("device " + ctx_.deviceName(lost.front()) + " was lost"));
  }
  return runIteration(iteration, iteration);
}

Result<StepResult> PipelineCoordinator::runIteration(int64_t iteration, int64_t data_iteration) {
  const auto& cfg = ctx_.config();
  const int k = numStages();
  const std::vector<int64_t> indices =
      EpochSampler(train_size_, cfg.batch_size, cfg.seed).batch(data_iteration);
  pipeline::Step step;
  step.set_iteration(iteration);
  step.set_mode(wire::STEP_MODE_TRAIN);
  step.set_micro_batches(micro_batches_);
  *step.mutable_indices() = {indices.begin(), indices.end()};
  ctx_.send(deviceOf(0), algoMessage(bridge::TrafficKind::kControl, step));
  StepResult result;
  for (int s = 0; s < k; ++s) result.devices.push_back(DeviceStep{deviceOf(s)});
  // The whole iteration, every stage's flush included, has step_timeout_.
  const auto deadline = std::chrono::steady_clock::now() + step_timeout_;
  unfinished_stages_.clear();
  for (int s = 0; s < k; ++s) unfinished_stages_.push_back(s);
  for (int got = 0; got < k; ++got) {
    std::optional<pipeline::StepDone> done;
    const auto left = std::max(std::chrono::milliseconds(0),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   deadline - std::chrono::steady_clock::now()));
    auto msg = ctx_.await(
        [iteration, &done](const DeviceMessage& m) {
          done = bodyIn<pipeline::StepDone>(m);
          return done && done->iteration() == iteration && done->mode() == wire::STEP_MODE_TRAIN;
        },
        left, "iteration " + std::to_string(iteration));
    if (!msg) {
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : msg.status();
    }
    const int s = stageOf(msg->device);
    if (s < 0) continue;
    std::erase(unfinished_stages_, s);
    DeviceStep& ds = result.devices[static_cast<size_t>(s)];
    ds.compute_s = done->compute_s();
    ds.samples = done->samples();
    if (s == k - 1) {
      result.samples = done->samples();
      result.loss = done->samples() > 0 ? done->loss_sum() / done->samples() : 0;
      result.accuracy =
          done->samples() > 0 ? static_cast<double>(done->correct()) / done->samples() : 0;
      ds.loss = result.loss;
      ds.accuracy = result.accuracy;
    }
  }
  return result;
}

Result<EvalResult> PipelineCoordinator::evaluate(int64_t samples) {
  const int k = numStages();
  const int64_t n = samples > 0 ? std::min(samples, test_size_) : test_size_;
  auto batches = evalBatches(n, kEvalBatch);
  EvalResult result;
  double loss_sum = 0;
  int64_t correct = 0;
  size_t sent = 0;
  int64_t outstanding_done = 0;  // StepDone messages still expected
  const int64_t first_id = kEvalIdBase + eval_counter_;
  eval_counter_ += static_cast<int64_t>(batches.size());
  auto sendNext = [&] {
    pipeline::Step step;
    step.set_iteration(first_id + static_cast<int64_t>(sent));
    step.set_mode(wire::STEP_MODE_EVAL);
    step.set_micro_batches(micro_batches_);
    *step.mutable_indices() = {batches[sent].begin(), batches[sent].end()};
    ctx_.send(deviceOf(0), algoMessage(bridge::TrafficKind::kControl, step));
    ++sent;
    outstanding_done += k;
  };
  while (sent < batches.size() && sent < static_cast<size_t>(kEvalInFlight)) sendNext();
  while (outstanding_done > 0) {
    std::optional<pipeline::StepDone> done;
    auto msg = ctx_.await(
        [first_id, &done](const DeviceMessage& m) {
          done = bodyIn<pipeline::StepDone>(m);
          return done && done->iteration() >= first_id && done->mode() == wire::STEP_MODE_EVAL;
        },
        std::max<std::chrono::milliseconds>(step_timeout_, kEvalAnswerTimeout), "evaluation");
    if (!msg) {
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : msg.status();
    }
    --outstanding_done;
    if (done->stage() == k - 1) {
      loss_sum += done->loss_sum();
      correct += done->correct();
      result.samples += done->samples();
      if (sent < batches.size()) sendNext();
    }
  }
  if (result.samples > 0) {
    result.loss = loss_sum / result.samples;
    result.accuracy = static_cast<double>(correct) / result.samples;
  }
  return result;
}

wire::ModelStateBlob PipelineCoordinator::stageSlice(const wire::ModelStateBlob& whole,
                                                     int stage) const {
  // Tensors are named "<layer>.<parameter>"; a stage gets the tensors of its own layers.
  wire::ModelStateBlob slice;
  for (const auto& t : whole.tensors()) {
    const auto dot = t.name().find('.');
    const std::string layer = t.name().substr(0, dot);
    for (int l = plan_->first(stage); l < plan_->last(stage); ++l) {
      if (layers_[l].name == layer) {
        *slice.add_tensors() = t;
        break;
      }
    }
  }
  return slice;
}

Result<wire::ModelStateBlob> PipelineCoordinator::gatherState() {
  auto handover = gatherStages(/*optimizer=*/false);
  if (!handover) return handover.status();
  return std::move(handover->weights);
}

Result<Coordinator::Handover> PipelineCoordinator::gatherHandover() {
  return gatherStages(/*optimizer=*/true);
}

Result<Coordinator::Handover> PipelineCoordinator::gatherStages(bool optimizer) {
  const int k = numStages();
  for (int s = 0; s < k; ++s) {
    wire::Envelope env;
    env.mutable_fetch_state()->set_optimizer(optimizer);
    ctx_.sendControl(deviceOf(s), std::move(env));
  }
  std::vector<wire::StateReply> parts(k);
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await([](const DeviceMessage& m) { return m.env.has_state_reply(); },
                          kSetupTimeout, "the stages' weights");
    if (!msg) {
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : msg.status();
    }
    const int s = stageOf(msg->device);
    if (s < 0) continue;
    parts[static_cast<size_t>(s)] = std::move(*msg->env.mutable_state_reply());
  }
  Handover whole;
  for (auto& p : parts) {
    for (auto& t : *p.mutable_state()->mutable_tensors())
      *whole.weights.add_tensors() = std::move(t);
    for (auto& t : *p.mutable_optimizer()->mutable_tensors()) {
      *whole.optimizer.add_tensors() = std::move(t);
    }
  }
  return whole;
}

Status PipelineCoordinator::fetchStates(const std::vector<int>& devices,
                                        std::chrono::milliseconds timeout, const std::string& what,
                                        ModelState& weights, ModelState& momentum) {
  for (int d : devices) {
    wire::Envelope env;
    env.mutable_fetch_state()->set_optimizer(true);
    ctx_.sendControl(d, std::move(env));
  }
  // One reply per device (an interrupted recovery may have left some of its own behind).
  std::vector<int> pending = devices;
  while (!pending.empty()) {
    auto msg = ctx_.await(
        [&pending](const DeviceMessage& m) {
          return m.env.has_state_reply() &&
                 std::find(pending.begin(), pending.end(), m.device) != pending.end();
        },
        timeout, what);
    if (!msg) return msg.status();
    pending.erase(std::find(pending.begin(), pending.end(), msg->device));
    auto w = fromBlob(msg->env.state_reply().state());
    auto m = fromBlob(msg->env.state_reply().optimizer());
    if (!w) return w.status();
    if (!m) return m.status();
    weights.insert(weights.end(), w->begin(), w->end());
    momentum.insert(momentum.end(), m->begin(), m->end());
  }
  return Status::ok();
}

Result<std::optional<PipelineCoordinator::ReplicaCopy>> PipelineCoordinator::fetchReplica(
    int holder, const std::vector<std::string>& layers, std::chrono::milliseconds timeout,
    const std::string& what) {
  if (layers.empty()) return std::optional<ReplicaCopy>();
  pipeline::FetchReplica fetch;
  for (const auto& n : layers) fetch.add_layers(n);
  ctx_.send(holder, algoMessage(bridge::TrafficKind::kControl, fetch));
  const std::string first = layers.front();
  auto msg = ctx_.await(
      [holder, first](const DeviceMessage& m) {
        auto r = bodyIn<pipeline::Replica>(m);
        return r && !r->snapshot() && m.device == holder && r->layers_size() > 0 &&
               r->layers(0) == first;
      },
      timeout, what);
  if (!msg) return msg.status();
  const auto r = bodyIn<pipeline::Replica>(*msg);
  auto tensors = tensorsOf(msg->env.algo());
  if (!r->held() || !tensors || static_cast<int>(tensors->size()) != r->names_size()) {
    return std::optional<ReplicaCopy>();
  }
  ReplicaCopy copy;
  copy.iteration = r->iteration();
  for (int i = 0; i < r->names_size(); ++i) {
    copy.tensors.emplace_back(r->names(i), (*tensors)[static_cast<size_t>(i)]);
  }
  return std::optional<ReplicaCopy>(std::move(copy));
}

std::string PipelineCoordinator::layoutDescription() const {
  return plan_ ? plan_->describe(layers_) : std::string("(no plan)");
}

void PipelineCoordinator::recoveryPhase(const char* phase, double took, int64_t iteration) {
  namespace f = events::fields;
  ctx_.event(std::string(events::kRecoveryPhase),
             std::string("recovery: ") + phase + " took " + pipeline_text::seconds(took) + " s", -1,
             {{std::string(f::kPhase), phase},
              {std::string(f::kSeconds), pipeline_text::seconds(took)},
              {std::string(f::kIteration), std::to_string(iteration)}});
}

void PipelineCoordinator::recovered(const Recovery& r) {
  namespace f = events::fields;
  ctx_.event(std::string(events::kRecovered), r.detail, -1,
             {{std::string(f::kDevices), r.devices},
              {std::string(f::kDetectionSeconds), pipeline_text::seconds(r.detection_s)},
              {std::string(f::kSeconds), pipeline_text::seconds(r.seconds)},
              {std::string(f::kSources), r.sources},
              {std::string(f::kIterationsRetrained), std::to_string(r.retrained)},
              {std::string(f::kCuts), pipeline_text::joined(plan_->cuts())},
              {std::string(f::kIteration), std::to_string(r.iteration)}});
  ctx_.metric("recovery_s", r.seconds);
  ctx_.metric("iterations_retrained", static_cast<double>(r.retrained));
}

}  // namespace edgerig
