#include "core/algorithms/pipeline/gpipe_coordinator.h"

#include <algorithm>
#include <numeric>

#include "core/data/sampler.h"

namespace edgerig {
namespace {

constexpr int kProfileRepetitions = 2;
constexpr auto kSetupTimeout = std::chrono::seconds(120);
constexpr auto kStepTimeout = std::chrono::seconds(300);
constexpr int64_t kEvalBatch = 500;
constexpr int kEvalInFlight = 2;  // bounds the activations queued between stages
// Evaluation steps get ids far from training iterations so that the two never collide.
constexpr int64_t kEvalIdBase = int64_t{1} << 40;

}  // namespace

void GpipeCoordinator::capacitiesFromProfiles(const std::vector<std::vector<double>>& layer_times,
                                              std::vector<double>& reference,
                                              std::vector<double>& capacity) {
  std::vector<double> totals;
  for (const auto& t : layer_times) totals.push_back(std::accumulate(t.begin(), t.end(), 0.0));
  const size_t fastest = std::min_element(totals.begin(), totals.end()) - totals.begin();
  reference = layer_times[fastest];
  capacity.clear();
  for (double t : totals) capacity.push_back(t > 0 ? totals[fastest] / t : 1.0);
}

Status GpipeCoordinator::setup() {
  const auto& cfg = ctx_.config();
  auto chain = LayerChain::build(cfg.model, cfg.seed);
  if (!chain) return chain.status();
  layers_ = chain->infos();
  const int k = ctx_.numDevices();
  if (k > static_cast<int>(layers_.size())) {
    return invalidArgument("model '" + cfg.model + "' has " + std::to_string(layers_.size()) +
                           " layers, too few for a pipeline of " + std::to_string(k) +
                           " stages; use fewer devices or a deeper model (vgg)");
  }
  if (auto st = profileDevices(); !st) return st;
  if (auto st = choosePlan(); !st) return st;
  return assignStages();
}

Status GpipeCoordinator::profileDevices() {
  const auto& cfg = ctx_.config();
  const int k = ctx_.numDevices();
  // Stages compute one micro-batch at a time, so that is what is timed; times are scaled
  // to a whole mini-batch for the plan.
  const int micro = std::max(1, cfg.batch_size / std::max(1, cfg.micro_batches));
  const double scale = static_cast<double>(cfg.batch_size) / micro;
  for (int d = 0; d < k; ++d) {
    wire::Envelope env;
    auto* p = env.mutable_profile_request();
    p->set_model(cfg.model);
    p->set_batch_size(micro);
    p->set_repetitions(kProfileRepetitions);
    p->set_seed(cfg.seed);
    ctx_.send(d, std::move(env));
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

Status GpipeCoordinator::choosePlan() {
  const auto& cfg = ctx_.config();
  const int k = ctx_.numDevices();
  const int l = static_cast<int>(layers_.size());
  std::string why;
  if (!cfg.cuts.empty()) {
    auto p = StagePlan::fromCuts(l, cfg.cuts);
    if (!p) return p.status();
    if (p->numStages() != k) {
      return invalidArgument("algorithm.cuts makes " + std::to_string(p->numStages()) +
                             " stages but the run has " + std::to_string(k) + " devices");
    }
    plan_ = *p;
    why = "explicit cuts";
  } else if (cfg.plan == "balanced") {
    PlanInputs in;
    in.layer_time_s = reference_time_s_;
    for (const auto& info : layers_)
      in.activation_bytes.push_back(info.activation_bytes * cfg.batch_size);
    in.capacity = capacity_;
    for (int s = 0; s + 1 < k; ++s)
      in.bandwidth_bytes_per_s.push_back(ctx_.deviceBandwidthBytesPerS(s));
    auto p = balancedPlan(in);
    if (!p) return p.status();
    plan_ = *p;
    why = "balanced plan from measured capacities";
  } else {
    auto p = evenPlan(l, k);
    if (!p) return p.status();
    plan_ = *p;
    why = "even plan";
  }
  std::vector<int> device_of_stage(k);
  std::iota(device_of_stage.begin(), device_of_stage.end(), 0);
  ctx_.planChanged(*plan_, device_of_stage, layers_, reference_time_s_, why);
  return Status::ok();
}

Status GpipeCoordinator::assignStages() {
  const auto& cfg = ctx_.config();
  const int k = ctx_.numDevices();
  for (int s = 0; s < k; ++s) {
    wire::Envelope env;
    auto* a = env.mutable_stage_assignment();
    a->set_run_id(cfg.name);
    a->set_algorithm("gpipe");
    a->set_model(cfg.model);
    a->set_seed(cfg.seed);
    a->set_stage(s);
    a->set_num_stages(k);
    a->set_first_layer(plan_->first(s));
    a->set_last_layer(plan_->last(s));
    if (s + 1 < k) a->set_next_address(ctx_.deviceAddress(s + 1));
    a->set_dataset(cfg.dataset);
    a->set_data_dir(cfg.data_dir);
    a->set_synthetic_size(cfg.synthetic_size);
    a->set_train_limit(cfg.train_limit);
    a->set_test_limit(cfg.test_limit);
    a->set_micro_batches(cfg.micro_batches);
    a->set_learning_rate(cfg.learning_rate);
    a->set_momentum(cfg.momentum);
    a->set_weight_decay(cfg.weight_decay);
    a->set_threads(cfg.threads_per_agent);
    if (initial_state_.tensors_size() > 0) *a->mutable_initial_state() = stageSlice(s);
    ctx_.send(s, std::move(env));
  }
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await([](const DeviceMessage& m) { return m.env.has_stage_ready(); },
                          kSetupTimeout, "stages to be ready");
    if (!msg) return msg.status();
    const auto& r = msg->env.stage_ready();
    if (r.stage() == 0) {
      train_size_ = r.train_size();
      test_size_ = r.test_size();
    }
  }
  if (train_size_ < ctx_.config().batch_size) {
    return invalidArgument("the training split has " + std::to_string(train_size_) +
                           " samples, fewer than one batch of " +
                           std::to_string(ctx_.config().batch_size));
  }
  return Status::ok();
}

Result<StepResult> GpipeCoordinator::trainStep(int64_t iteration,
                                               const std::vector<int64_t>& indices) {
  const int k = ctx_.numDevices();
  wire::Envelope env;
  auto* step = env.mutable_step();
  step->set_iteration(iteration);
  step->set_mode(wire::STEP_MODE_TRAIN);
  step->set_micro_batches(ctx_.config().micro_batches);
  *step->mutable_indices() = {indices.begin(), indices.end()};
  ctx_.send(0, std::move(env));
  StepResult result;
  result.stage_compute_s.assign(k, 0.0);
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await(
        [iteration](const DeviceMessage& m) {
          return m.env.has_step_done() && m.env.step_done().iteration() == iteration;
        },
        kStepTimeout, "iteration " + std::to_string(iteration));
    if (!msg) return msg.status();
    const auto& d = msg->env.step_done();
    result.stage_compute_s[d.stage()] = d.compute_s();
    if (d.stage() == k - 1) {
      result.samples = d.samples();
      result.loss = d.samples() > 0 ? d.loss_sum() / d.samples() : 0;
      result.accuracy = d.samples() > 0 ? static_cast<double>(d.correct()) / d.samples() : 0;
    }
  }
  return result;
}

Result<EvalResult> GpipeCoordinator::evaluate(int64_t samples) {
  const int k = ctx_.numDevices();
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
    wire::Envelope env;
    auto* step = env.mutable_step();
    step->set_iteration(first_id + static_cast<int64_t>(sent));
    step->set_mode(wire::STEP_MODE_EVAL);
    step->set_micro_batches(ctx_.config().micro_batches);
    *step->mutable_indices() = {batches[sent].begin(), batches[sent].end()};
    ctx_.send(0, std::move(env));
    ++sent;
    outstanding_done += k;
  };
  while (sent < batches.size() && sent < static_cast<size_t>(kEvalInFlight)) sendNext();
  while (outstanding_done > 0) {
    auto msg = ctx_.await(
        [first_id](const DeviceMessage& m) {
          return m.env.has_step_done() && m.env.step_done().iteration() >= first_id &&
                 m.env.step_done().mode() == wire::STEP_MODE_EVAL;
        },
        kStepTimeout, "evaluation");
    if (!msg) return msg.status();
    --outstanding_done;
    const auto& d = msg->env.step_done();
    if (d.stage() == k - 1) {
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

wire::ModelStateBlob GpipeCoordinator::stageSlice(int stage) const {
  // Tensors are named "<layer>.<parameter>"; a stage gets the tensors of its own layers.
  wire::ModelStateBlob slice;
  for (const auto& t : initial_state_.tensors()) {
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

Result<wire::ModelStateBlob> GpipeCoordinator::gatherState() {
  const int k = ctx_.numDevices();
  for (int d = 0; d < k; ++d) {
    wire::Envelope env;
    env.mutable_fetch_state();
    ctx_.send(d, std::move(env));
  }
  std::vector<wire::ModelStateBlob> parts(k);
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await([](const DeviceMessage& m) { return m.env.has_state_reply(); },
                          kSetupTimeout, "the stages' weights");
    if (!msg) return msg.status();
    auto& reply = *msg->env.mutable_state_reply();
    if (reply.stage() < 0 || reply.stage() >= k) {
      return invalidArgument("device " + ctx_.deviceName(msg->device) +
                             " sent the weights of stage " + std::to_string(reply.stage()) +
                             " of a " + std::to_string(k) + "-stage pipeline");
    }
    parts[reply.stage()] = std::move(*reply.mutable_state());
  }
  wire::ModelStateBlob whole;
  for (auto& p : parts) {
    for (auto& t : *p.mutable_tensors()) *whole.add_tensors() = std::move(t);
  }
  return whole;
}

std::string GpipeCoordinator::planDescription() const {
  return plan_ ? plan_->describe(layers_) : std::string("(no plan)");
}

}  // namespace edgerig
