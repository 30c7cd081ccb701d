#include "core/algorithms/decentralized/allreduce/allreduce_coordinator.h"

#include <algorithm>
#include <set>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/common/replica_set.h"
#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

constexpr auto kSetupTimeout = std::chrono::seconds(120);
constexpr auto kStepTimeout = std::chrono::seconds(300);
// An iteration interrupted by lost devices is run again on the survivors, this many times.
constexpr int kMaxStepAttempts = 8;

}  // namespace

int64_t AllreduceCoordinator::iterationsPerEpoch() const {
  const int64_t global = static_cast<int64_t>(ring_.ring_size()) * ctx_.config().batch_size;
  return global > 0 ? std::max<int64_t>(1, train_size_ / global) : 1;
}

Status AllreduceCoordinator::setup() {
  return startOnAliveDevices(
      ctx_, "allreduce", kMaxStepAttempts,
      [this](const std::vector<int>& devices) { return startRing(devices, initial_momentum_); });
}

Status AllreduceCoordinator::startRing(const std::vector<int>& devices,
                                       const wire::ModelStateBlob& momentum) {
  ring_.clear_ring();
  for (int d : devices) ring_.add_ring(d);
  ring_.set_ring_epoch(ring_.ring_epoch() + 1);
  ring_.set_bucket_bytes(static_cast<int64_t>(ctx_.params().getDouble("bucketMiB") * 1024 * 1024));
  auto sizes = startReplicas(ctx_, devices, ring_, initial_state_, momentum, kSetupTimeout);
  if (!sizes) return sizes.status();
  train_size_ = sizes->train;
  test_size_ = sizes->test;
  publishRing("ring over " + std::to_string(devices.size()) + " devices");
  return Status::ok();
}

void AllreduceCoordinator::publishRing(const std::string& why) {
  GraphLayout g;
  g.kind = "ring";
  const int n = ring_.ring_size();
  for (int i = 0; i < n && n > 1; ++i) {
    g.edges.push_back(GraphEdge{ring_.ring(i), ring_.ring((i + 1) % n), 1.0 / n});
  }
  ctx_.graphChanged(g, why);
}

Status AllreduceCoordinator::reformRing(const std::string& why) {
  for (;;) {
    const std::vector<int> lost = ctx_.takeLost();
    std::vector<int> survivors;
    for (int d : ringDevices()) {
      if (ctx_.alive(d)) survivors.push_back(d);
    }
    if (survivors.empty()) return unavailable("every device of the allreduce ring is lost");
    const auto t0 = std::chrono::steady_clock::now();
    ring_.clear_ring();
    for (int d : survivors) ring_.add_ring(d);
    ring_.set_ring_epoch(ring_.ring_epoch() + 1);
    for (int d : survivors) ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, ring_));
    const uint32_t epoch = ring_.ring_epoch();
    auto st = awaitEach(
        ctx_, survivors,
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo()) return false;
          auto r = bodyAs<decentralized::RingReady>(m.env.algo());
          return r && r->ring_epoch() == epoch;
        },
        kSetupTimeout, "the ring to re-form");
    if (!st && st.code() == StatusCode::kUnavailable) continue;  // another loss: again
    if (!st) return st;
    recoveredEvent(ctx_, "ring re-formed", survivors, lost.size(), why, t0);
    publishRing("re-formed after a lost device");
    return Status::ok();
  }
}

Result<StepResult> AllreduceCoordinator::trainStep(int64_t iteration) {
  for (int attempt = 0; attempt < kMaxStepAttempts; ++attempt) {
    bool lost_in_ring = false;
    for (int d : ctx_.takeLost()) {
      for (int r : ringDevices()) lost_in_ring = lost_in_ring || r == d;
    }
    if (lost_in_ring) {
      if (auto st = reformRing("before iteration " + std::to_string(iteration)); !st) return st;
    }
    auto step = runStep(iteration);
    if (step || step.status().code() != StatusCode::kUnavailable) return step;
    // A device was lost mid-iteration: nobody has applied it (no commit), so it runs again.
    if (auto st = reformRing("iteration " + std::to_string(iteration) + " interrupted"); !st) {
      return st;
    }
  }
  return unavailable("iteration " + std::to_string(iteration) + " was interrupted " +
                     std::to_string(kMaxStepAttempts) + " times by lost devices");
}

Result<StepResult> AllreduceCoordinator::runStep(int64_t iteration) {
  decentralized::Step step;
  step.set_iteration(iteration);
  step.set_ring_epoch(ring_.ring_epoch());
  const std::vector<int> devices = ringDevices();
  for (int d : devices) ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, step));
  RoundTotals totals;
  std::set<int> waiting(devices.begin(), devices.end());
  while (!waiting.empty()) {
    std::optional<decentralized::StepDone> done;
    auto msg = ctx_.await(
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo() || !waiting.count(m.device)) return false;
          auto d = bodyAs<decentralized::StepDone>(m.env.algo());
          // Of this attempt: a StepDone of the attempt a lost device interrupted (sent, or kept
          // unclaimed, before the RingSetup that discarded its gradient) does not count.
          if (!d || d->iteration() != iteration || d->ring_epoch() != step.ring_epoch()) {
            return false;
          }
          done = *d;
          return true;
        },
        kStepTimeout, "iteration " + std::to_string(iteration));
    if (!msg) return msg.status();
    waiting.erase(msg->device);
    totals.add(msg->device, *done);
  }
  // Every device has the average: apply it everywhere.
  decentralized::Commit commit;
  commit.set_iteration(iteration);
  commit.set_ring_epoch(step.ring_epoch());
  for (int d : devices) ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, commit));
  return totals.result();
}

Status AllreduceCoordinator::reformRingIfLost(const std::string& why) {
  if (ctx_.takeLost().empty() && ringDevices().size() == ctx_.aliveDevices().size()) {
    return Status::ok();
  }
  return reformRing(why);
}

Result<EvalResult> AllreduceCoordinator::evaluate(int64_t samples) {
  return retryWhileLost<EvalResult>(
      kMaxStepAttempts, "evaluation", [&] { return reformRingIfLost("before an evaluation"); },
      [&] { return evaluateEach(ctx_, ringDevices(), samples, test_size_, ++eval_counter_); });
}

Result<wire::ModelStateBlob> AllreduceCoordinator::gatherState() {
  return retryWhileLost<wire::ModelStateBlob>(
      kMaxStepAttempts, "gathering the model",
      [&] { return reformRingIfLost("while gathering the model"); },
      [&] { return gatherAverageWeights(ctx_, ringDevices()); });
}

Result<Coordinator::Handover> AllreduceCoordinator::gatherHandover() {
  return retryWhileLost<Handover>(
      kMaxStepAttempts, "gathering the model and momentum",
      [&] { return reformRingIfLost("while gathering the model"); },
      [&] { return gatherAverageHandover(ctx_, ringDevices()); });
}

Status AllreduceCoordinator::deviceRejoined(int device) {
  // Everyone restarts from the survivors' model and momentum: the returning device gets the
  // current weights, and the ring stays in lockstep. A device lost meanwhile (a source while its
  // model is gathered, anyone while the ring starts) is left out and the rejoin tried again, as
  // an interrupted iteration is.
  const auto t0 = std::chrono::steady_clock::now();
  size_t lost = 0;
  for (int attempt = 0; attempt < kMaxStepAttempts; ++attempt) {
    lost += ctx_.takeLost().size();  // whoever is lost is left out below
    std::vector<int> sources;
    for (int d : ringDevices()) {
      if (d != device && ctx_.alive(d)) sources.push_back(d);
    }
    if (sources.empty()) return unavailable("no device left to take the model from");
    auto state = gatherAverage(ctx_, sources, /*optimizer=*/true);
    if (!state && state.status().code() == StatusCode::kUnavailable) continue;
    if (!state) return state.status();
    std::vector<int> devices;
    for (int d : sources) {
      if (ctx_.alive(d)) devices.push_back(d);
    }
    const bool back = ctx_.alive(device);
    if (back) devices.push_back(device);
    std::sort(devices.begin(), devices.end());
    initial_state_ = std::move(*state->mutable_state());
    auto st = startRing(devices, state->optimizer());
    if (!st && st.code() == StatusCode::kUnavailable) continue;
    if (!st) return st;
    if (lost > 0) {
      recoveredEvent(ctx_, "ring re-formed", devices, lost,
                     "devices lost while " + ctx_.deviceName(device) + " rejoined", t0);
    }
    // Lost again before it was in: the ring goes on without it, as after any loss.
    if (back) {
      ctx_.event(std::string(events::kDeviceRejoined),
                 ctx_.deviceName(device) + " rejoined the ring with the current model", device);
    }
    return Status::ok();
  }
  return unavailable("taking " + ctx_.deviceName(device) + " back was interrupted " +
                     std::to_string(kMaxStepAttempts) + " times by lost devices");
}

std::vector<int> AllreduceCoordinator::ringDevices() const {
  std::vector<int> out;
  out.reserve(static_cast<size_t>(ring_.ring_size()));
  for (int d : ring_.ring()) out.push_back(d);
  return out;
}

std::string AllreduceCoordinator::layoutDescription() const {
  std::string s = "ring";
  for (int d : ring_.ring()) s.append(" ").append(ctx_.deviceName(d));
  return s;
}

}  // namespace edgerig
