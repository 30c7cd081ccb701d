#include "core/algorithms/decentralized/edgegossip/edgegossip_coordinator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

// The first measurement: after rounds 1 and 2 (round 0 left out).
constexpr int64_t kFirstWindow = 2;
// A device's rounds off its reference this many times running: its speed changed.
constexpr int kChangeRounds = 3;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

EdgeGossipCoordinator::EdgeGossipCoordinator(RunContext& ctx, GossipRules rules)
    : GossipCoordinator(ctx, std::move(rules)),
      measure_every_(std::max<int64_t>(1, ctx.params().getInt("measureEvery"))),
      tolerance_(ctx.params().getDouble("rebalanceTolerance")),
      period_(ctx.params().getInt("minPeriod"), ctx.params().getInt("maxPeriod"),
              ctx.params().getDouble("stallThreshold")),
      watch_(ctx.params().getDouble("speedChange"), kChangeRounds) {}

Status EdgeGossipCoordinator::setup() {
  if (auto st = GossipCoordinator::setup(); !st) return st;
  global_ = static_cast<int64_t>(members().size()) * ctx_.config().batch_size;
  return Status::ok();
}

int64_t EdgeGossipCoordinator::iterationsPerEpoch() const {
  return global_ > 0 ? std::max<int64_t>(1, trainSize() / global_) : 1;
}

void EdgeGossipCoordinator::beginRound(int64_t iteration) {
  const std::vector<int> devices = members();
  bool same = batch_.size() == devices.size();
  for (int d : devices) same = same && batch_.count(d);
  if (!same) {
    if (batch_.empty()) {
      // The start: nothing measured yet, an even split.
      for (size_t i = 0; i < devices.size(); ++i) {
        const int64_t n = static_cast<int64_t>(devices.size());
        const int64_t k = static_cast<int64_t>(i);
        batch_[devices[i]] = global_ * (k + 1) / n - global_ * k / n;
      }
    } else {
      rebalance(iteration, "the devices changed");
    }
  }
  exchange_ = period_.exchangesAt(iteration);
  ctx_.metric("exchange_period", static_cast<double>(period_.period()));
}

void EdgeGossipCoordinator::prepareStep(int device, decentralized::GossipStep& step) {
  const int64_t b = batch_.count(device) ? batch_.at(device) : ctx_.config().batch_size;
  step.set_local_batch(b);
  // The weight on the device's gradient, batch / mean batch: 1 for every device when the batches
  // are equal (then it is dpsgd).
  const double mean = static_cast<double>(global_) / static_cast<double>(batch_.size());
  step.set_mix_weight(static_cast<double>(b) / mean);
  step.set_skip_exchange(!exchange_);
}

void EdgeGossipCoordinator::roundDone(int64_t iteration, const StepResult& result) {
  constexpr size_t kKeptRounds = 200;
  std::vector<int> drifted;
  for (const auto& ds : result.devices) {
    ctx_.metric("iteration_time", ds.compute_s, ds.device);
    if (batch_.count(ds.device)) {
      ctx_.metric("local_batch", static_cast<double>(batch_.at(ds.device)), ds.device);
    }
    if (iteration == 0 || ds.samples <= 0 || ds.compute_s <= 0) continue;  // first-touch costs
    auto& rounds = rounds_[ds.device];
    rounds.push_back(RoundTime{static_cast<double>(ds.samples), ds.compute_s});
    if (rounds.size() > kKeptRounds) rounds.erase(rounds.begin());
    // Off its reference by more than speedChange three rounds running is a change, not noise.
    if (watch_.observe(ds.device, ds.compute_s) && measured_at_ >= 0) drifted.push_back(ds.device);
  }
  if (measured_at_ < 0 && iteration >= kFirstWindow) {
    rebalance(iteration, "measured at the start");
  } else if (!drifted.empty()) {
    // Only the rounds since the change describe the device now.
    for (int d : drifted) rounds_[d].erase(rounds_[d].begin(), rounds_[d].end() - kChangeRounds);
    rebalance(iteration, ctx_.deviceName(drifted.front()) + "'s speed changed", drifted);
  } else if (measured_at_ >= 0 && iteration - measured_at_ >= measure_every_) {
    rebalance(iteration,
              "re-measured after " + std::to_string(iteration - measured_at_) + " rounds");
  }
}

void EdgeGossipCoordinator::rebalance(int64_t iteration, const std::string& why,
                                      const std::vector<int>& drifted) {
  measured_at_ = iteration;
  // A device whose speed changed is measured afresh; one whose batch changes below too. The
  // others keep their references, so a change that lands just after this measurement still
  // shows against the speed they had before it.
  for (int d : drifted) watch_.restart(d);
  const std::vector<int> devices = members();
  watch_.keepOnly(devices);
  std::map<int, TimeModel> fitted;
  TimeModel mean;
  for (int d : devices) {
    if (rounds_.count(d) && !rounds_.at(d).empty()) {
      fitted[d] = fitTime(rounds_.at(d));
      mean.a += fitted[d].a / static_cast<double>(devices.size());
      mean.c += fitted[d].c / static_cast<double>(devices.size());
    }
  }
  if (fitted.empty()) return;
  mean.a *= static_cast<double>(devices.size()) / static_cast<double>(fitted.size());
  mean.c *= static_cast<double>(devices.size()) / static_cast<double>(fitted.size());
  std::vector<TimeModel> models;
  std::vector<int64_t> current;
  for (int d : devices) {
    models.push_back(fitted.count(d) ? fitted.at(d) : mean);
    current.push_back(batch_.count(d) ? batch_.at(d) : 0);
  }
  auto next = splitBatch(equalTimeBatches(models, global_), global_);
  if (!next) {
    ctx_.event(std::string(events::kError),
               "edgegossip could not rebalance: " + next.status().message());
    return;
  }
  const bool members_changed = batch_.size() != devices.size();
  if (!members_changed && !worthRebalancing(current, *next, tolerance_)) return;
  std::string speeds_text, batches_text;
  for (size_t i = 0; i < devices.size(); ++i) {
    if (current[i] != (*next)[i]) watch_.restart(devices[i]);
  }
  batch_.clear();
  for (size_t i = 0; i < devices.size(); ++i) {
    batch_[devices[i]] = (*next)[i];
    // samples/s at the new batch, as the model predicts it
    const double b = static_cast<double>((*next)[i]);
    speeds_text +=
        (i ? ", " : "") + ctx_.deviceName(devices[i]) + " " + fixed(b / models[i].at(b), 0);
    batches_text +=
        (i ? ", " : "") + ctx_.deviceName(devices[i]) + " " + std::to_string((*next)[i]);
  }
  ctx_.event(
      std::string(events::kReplanned),
      "edgegossip local batches " + batches_text + " (" + why + "; samples/s " + speeds_text + ")",
      -1,
      {{std::string(events::fields::kReason), why},
       {std::string(events::fields::kCapacities), speeds_text},
       {std::string(events::fields::kIteration), std::to_string(iteration)}});
}

Result<EvalResult> EdgeGossipCoordinator::evaluate(int64_t samples) {
  auto r = GossipCoordinator::evaluate(samples);
  if (!r || samples <= 0) return r;  // the final evaluation steers nothing
  const int64_t before = period_.period();
  const int64_t after = period_.update(r->accuracy);
  if (after != before) {
    ctx_.event(std::string(kExchangePeriodChanged),
               "edgegossip exchanges every " + std::to_string(after) + " rounds (was " +
                   std::to_string(before) + "; validation accuracy " + fixed(r->accuracy, 4) +
                   (after > before ? ", rising)" : ", stalled)"),
               -1, {{"period", std::to_string(after)}, {"was", std::to_string(before)}});
  }
  return r;
}

}  // namespace edgerig
