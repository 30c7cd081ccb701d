#include "core/algorithms/decentralized/common/replica_set.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/algorithms/algo_message.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"
#include "decentralized.pb.h"

namespace edgerig {
namespace {
constexpr auto kGatherTimeout = std::chrono::seconds(120);
constexpr auto kEvalTimeout = std::chrono::seconds(600);
}  // namespace

Result<GatheredModels> gatherModels(RunContext& ctx, const std::vector<int>& devices,
                                    bool optimizer) {
  for (int d : devices) {
    wire::Envelope env;
    env.mutable_fetch_state()->set_optimizer(optimizer);
    ctx.sendControl(d, std::move(env));
  }
  std::map<int, ModelState> weights, momenta;
  std::set<int> waiting(devices.begin(), devices.end());
  while (!waiting.empty()) {
    auto msg = ctx.await(
        [&waiting](const DeviceMessage& m) {
          return m.env.has_state_reply() && waiting.count(m.device) > 0;
        },
        kGatherTimeout, "the devices' models");
    if (!msg) return msg.status();
    waiting.erase(msg->device);
    auto w = fromBlob(msg->env.state_reply().state());
    if (!w) return w.status();
    weights[msg->device] = std::move(w).value();
    if (optimizer) {
      auto m = fromBlob(msg->env.state_reply().optimizer());
      if (!m) return m.status();
      momenta[msg->device] = std::move(m).value();
    }
  }
  GatheredModels out;
  for (int d : devices) {
    out.weights.push_back(std::move(weights[d]));
    if (optimizer) out.momenta.push_back(std::move(momenta[d]));
  }
  return out;
}

Result<wire::StateReply> gatherAverage(RunContext& ctx, const std::vector<int>& devices,
                                       bool optimizer) {
  auto models = gatherModels(ctx, devices, optimizer);
  if (!models) return models.status();
  wire::StateReply out;
  auto mean = averageStates(models->weights);
  if (!mean) return mean.status();
  *out.mutable_state() = toBlob(*mean);
  // Momentum is averaged only when every device has it (none has before its first step).
  bool every = optimizer && !models->momenta.empty();
  for (const auto& m : models->momenta) every = every && !m.empty();
  if (every) {
    auto m = averageStates(models->momenta);
    if (m) *out.mutable_optimizer() = toBlob(*m);
  }
  return out;
}

Result<double> consensusDistance(const std::vector<ModelState>& models) {
  if (models.empty()) return invalidArgument("no models to measure the consensus distance of");
  auto mean = averageStates(models);
  if (!mean) return mean.status();
  double sum = 0;
  torch::NoGradGuard no_grad;
  for (const auto& m : models) {
    for (size_t t = 0; t < m.size(); ++t) {
      if (!m[t].second.is_floating_point()) continue;
      sum += (m[t].second.to(torch::kFloat64) - (*mean)[t].second.to(torch::kFloat64))
                 .pow(2)
                 .sum()
                 .item<double>();
    }
  }
  return std::sqrt(sum / static_cast<double>(models.size()));
}

namespace {

// Sends the Evaluate requests and sums the answers. Sliced: the first `samples` test samples cut
// into one slice per device, each counted once; else the same samples on every device, the
// figures the mean of the devices'. With `model`, every device evaluates that model.
Result<EvalResult> evaluateOn(RunContext& ctx, const std::vector<int>& devices, bool sliced,
                              int64_t samples, int64_t eval_id, const ModelState* model) {
  const int64_t k = static_cast<int64_t>(devices.size());
  for (int64_t i = 0; i < k; ++i) {
    decentralized::Evaluate request;
    request.set_eval_id(eval_id);
    request.set_offset(sliced ? samples * i / k : 0);
    request.set_samples(sliced ? samples * (i + 1) / k - samples * i / k : samples);
    if (model) {
      for (const auto& [name, t] : *model) request.add_model_names(name);
    }
    // A model is model state on the wire (traffic kind weights, as the gathering before it).
    wire::AlgoMessage m =
        algoMessage(model ? bridge::TrafficKind::kWeights : bridge::TrafficKind::kControl, request);
    if (model) {
      for (const auto& [name, t] : *model) appendTensor(m, t);
    }
    ctx.send(devices[static_cast<size_t>(i)], std::move(m));
  }
  EvalResult result;
  std::set<int> waiting(devices.begin(), devices.end());
  double loss = 0, accuracy = 0, loss_sum = 0;
  int64_t correct = 0, total = 0;
  while (!waiting.empty()) {
    std::optional<decentralized::EvalDone> done;
    auto msg = ctx.await(
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo() || !waiting.count(m.device)) return false;
          auto d = bodyAs<decentralized::EvalDone>(m.env.algo());
          if (!d || d->eval_id() != eval_id) return false;
          done = *d;
          return true;
        },
        kEvalTimeout, "evaluation");
    if (!msg) return msg.status();
    waiting.erase(msg->device);
    DeviceEval e;
    e.device = msg->device;
    e.samples = done->samples();
    e.loss = done->samples() > 0 ? done->loss_sum() / done->samples() : 0;
    e.accuracy = done->samples() > 0 ? static_cast<double>(done->correct()) / done->samples() : 0;
    loss += e.loss;
    accuracy += e.accuracy;
    loss_sum += done->loss_sum();
    correct += done->correct();
    total += done->samples();
    result.samples = sliced ? total : std::max(result.samples, e.samples);
    result.devices.push_back(e);
  }
  std::sort(result.devices.begin(), result.devices.end(),
            [](const DeviceEval& a, const DeviceEval& b) { return a.device < b.device; });
  if (sliced && total > 0) {
    result.loss = loss_sum / static_cast<double>(total);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(total);
  } else if (!devices.empty()) {
    result.loss = loss / static_cast<double>(devices.size());
    result.accuracy = accuracy / static_cast<double>(devices.size());
  }
  return result;
}

}  // namespace

Result<EvalResult> evaluateEach(RunContext& ctx, const std::vector<int>& devices, int64_t samples,
                                int64_t test_size, int64_t eval_id) {
  if (samples <= 0) return evaluateOn(ctx, devices, true, test_size, eval_id, nullptr);
  return evaluateOn(ctx, devices, false, std::min(samples, test_size), eval_id, nullptr);
}

Result<EvalResult> evaluateModel(RunContext& ctx, const std::vector<int>& devices,
                                 const ModelState& model, int64_t samples, int64_t test_size,
                                 int64_t eval_id) {
  const int64_t n = samples <= 0 ? test_size : std::min(samples, test_size);
  return evaluateOn(ctx, devices, true, n, eval_id, &model);
}

Result<EvalResult> evaluateModelsAndTheirAverage(RunContext& ctx, const std::vector<int>& devices,
                                                 int64_t samples, int64_t test_size,
                                                 int64_t& eval_counter) {
  // How far apart the devices' models are: the figure gossip drives down.
  auto models = gatherModels(ctx, devices, /*optimizer=*/false);
  if (!models) return models.status();
  auto distance = consensusDistance(models->weights);
  if (!distance) return distance.status();
  ctx.metric("consensus_distance", *distance);
  // The devices' averaged model, as the reference code reports a gossip run's final accuracy
  // (docs/design.md, dpsgd and sgp 5); the devices' own models are the run's test_accuracy.
  auto mean = averageStates(models->weights);
  if (!mean) return mean.status();
  auto averaged = evaluateModel(ctx, devices, *mean, samples, test_size, ++eval_counter);
  if (!averaged) return averaged.status();
  ctx.metric("averaged_model_accuracy", averaged->accuracy);
  ctx.metric("averaged_model_loss", averaged->loss);
  auto own = evaluateEach(ctx, devices, samples, test_size, ++eval_counter);
  if (own) own->averaged_model_accuracy = averaged->accuracy;
  return own;
}

std::string deviceNames(RunContext& ctx, const std::vector<int>& devices) {
  std::string out;
  for (int d : devices) out += (out.empty() ? "" : ", ") + ctx.deviceName(d);
  return out;
}

Status startOnAliveDevices(RunContext& ctx, const std::string& algorithm, int attempts,
                           const std::function<Status(const std::vector<int>&)>& start) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    ctx.takeLost();  // whoever is lost already is simply not in the layout
    const std::vector<int> devices = ctx.aliveDevices();
    if (devices.empty()) return unavailable(algorithm + " has no device left to run on");
    auto st = start(devices);
    if (st || st.code() != StatusCode::kUnavailable) return st;  // lost while starting: again
  }
  return unavailable(algorithm + " could not start: devices kept being lost");
}

Result<ReplicaSizes> startReplicas(RunContext& ctx, const std::vector<int>& devices,
                                   const google::protobuf::Message& setup,
                                   const wire::ModelStateBlob& initial_state,
                                   const wire::ModelStateBlob& momentum,
                                   std::chrono::milliseconds timeout) {
  std::vector<WorkerLaunch> launches;
  for (int d : devices) {
    WorkerLaunch l;
    l.device = d;
    l.setup.PackFrom(setup);
    l.initial_state = initial_state;
    l.initial_optimizer = momentum;
    launches.push_back(std::move(l));
  }
  auto readies = ctx.startWorkers(std::move(launches), timeout);
  if (!readies) return readies.status();
  return ReplicaSizes{readies->front().train_size(), readies->front().test_size()};
}

Status awaitEach(RunContext& ctx, const std::vector<int>& devices,
                 const std::function<bool(const DeviceMessage&)>& accept,
                 std::chrono::milliseconds timeout, const std::string& what) {
  std::set<int> waiting(devices.begin(), devices.end());
  while (!waiting.empty()) {
    auto msg =
        ctx.await([&](const DeviceMessage& m) { return waiting.count(m.device) > 0 && accept(m); },
                  timeout, what);
    if (!msg) return msg.status();
    waiting.erase(msg->device);
  }
  return Status::ok();
}

void recoveredEvent(RunContext& ctx, const std::string& what, const std::vector<int>& survivors,
                    size_t lost, const std::string& why,
                    std::chrono::steady_clock::time_point start) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  ctx.event(std::string(events::kRecovered),
            what + " over " + deviceNames(ctx, survivors) + " (" + why + "; " +
                std::to_string(lost) + " lost) in " + buf + " s",
            -1,
            {{std::string(events::fields::kDevices), deviceNames(ctx, survivors)},
             {std::string(events::fields::kSeconds), buf}});
}

Result<wire::ModelStateBlob> gatherAverageWeights(RunContext& ctx,
                                                  const std::vector<int>& devices) {
  auto r = gatherAverage(ctx, devices, /*optimizer=*/false);
  if (!r) return r.status();
  return std::move(*r->mutable_state());
}

Result<Coordinator::Handover> gatherAverageHandover(RunContext& ctx,
                                                    const std::vector<int>& devices) {
  auto r = gatherAverage(ctx, devices, /*optimizer=*/true);
  if (!r) return r.status();
  return Coordinator::Handover{std::move(*r->mutable_state()), std::move(*r->mutable_optimizer())};
}

void RoundTotals::add(int device, double compute_s, int64_t samples, double loss_sum,
                      int64_t correct) {
  DeviceStep ds;
  ds.device = device;
  ds.compute_s = compute_s;
  ds.samples = samples;
  ds.loss = samples > 0 ? loss_sum / static_cast<double>(samples) : 0;
  ds.accuracy = samples > 0 ? static_cast<double>(correct) / static_cast<double>(samples) : 0;
  result_.devices.push_back(ds);
  loss_sum_ += loss_sum;
  correct_ += correct;
  result_.samples += samples;
}

StepResult RoundTotals::result() const {
  StepResult r = result_;
  std::sort(r.devices.begin(), r.devices.end(),
            [](const DeviceStep& a, const DeviceStep& b) { return a.device < b.device; });
  if (r.samples > 0) {
    r.loss = loss_sum_ / static_cast<double>(r.samples);
    r.accuracy = static_cast<double>(correct_) / static_cast<double>(r.samples);
  }
  return r;
}

}  // namespace edgerig
