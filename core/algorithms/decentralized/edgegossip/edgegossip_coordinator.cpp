#include "core/algorithms/decentralized/edgegossip/edgegossip_coordinator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

EdgeGossipCoordinator::EdgeGossipCoordinator(RunContext& ctx, GossipRules rules)
    : GossipCoordinator(ctx, std::move(rules)),
      period_(ctx.params().getInt("minPeriod"), ctx.params().getInt("maxPeriod"),
              ctx.params().getDouble("stallThreshold")) {}

Status EdgeGossipCoordinator::setup() {
  if (auto st = GossipCoordinator::setup(); !st) return st;
  steer_.emplace(static_cast<int64_t>(members().size()) * ctx_.config().batch_size,
                 ctx_.params().getInt("measureEvery"),
                 ctx_.params().getDouble("rebalanceTolerance"),
                 ctx_.params().getDouble("speedChange"));
  return Status::ok();
}

int64_t EdgeGossipCoordinator::iterationsPerEpoch() const {
  const int64_t global = steer_ ? steer_->global() : 0;
  return global > 0 ? std::max<int64_t>(1, trainSize() / global) : 1;
}

void EdgeGossipCoordinator::beginRound(int64_t iteration) {
  announce(iteration, steer_->begin(iteration, members()));
  exchange_ = period_.exchangesAt(iteration);
  ctx_.metric("exchange_period", static_cast<double>(period_.period()));
}

void EdgeGossipCoordinator::prepareStep(int device, decentralized::GossipStep& step) {
  const auto& batches = steer_->batches();
  const int64_t b = batches.count(device) ? batches.at(device) : ctx_.config().batch_size;
  step.set_local_batch(b);
  // The weight on the device's gradient, batch / mean batch: 1 for every device when the batches
  // are equal (then it is dpsgd).
  const double mean = static_cast<double>(steer_->global()) / static_cast<double>(batches.size());
  step.set_mix_weight(static_cast<double>(b) / mean);
  step.set_skip_exchange(!exchange_);
}

void EdgeGossipCoordinator::roundDone(int64_t iteration, const StepResult& result) {
  std::vector<MeasuredRound> rounds;
  for (const auto& ds : result.devices) {
    ctx_.metric("iteration_time", ds.compute_s, ds.device);
    if (steer_->batches().count(ds.device)) {
      ctx_.metric("local_batch", static_cast<double>(steer_->batches().at(ds.device)), ds.device);
    }
    rounds.push_back(MeasuredRound{ds.device, ds.samples, ds.compute_s});
  }
  announce(iteration, steer_->done(iteration, rounds, members()));
}

void EdgeGossipCoordinator::announce(int64_t iteration,
                                     const Result<std::optional<Rebalance>>& decided) {
  if (!decided) {
    ctx_.event(std::string(events::kError),
               "edgegossip could not rebalance: " + decided.status().message());
    return;
  }
  if (!decided->has_value()) return;
  const Rebalance& r = **decided;
  std::string why;
  switch (r.why) {
    case Rebalance::Why::kStart:
      why = "measured at the start";
      break;
    case Rebalance::Why::kMembersChanged:
      why = "the devices changed";
      break;
    case Rebalance::Why::kSpeedChanged:
      why = ctx_.deviceName(r.drifted.front()) + "'s speed changed";
      break;
    case Rebalance::Why::kPeriodic:
      why = "re-measured after " + std::to_string(r.since) + " rounds";
      break;
  }
  std::string speeds_text, batches_text;
  for (size_t i = 0; i < r.devices.size(); ++i) {
    // samples/s at the new batch, as the model predicts it
    speeds_text += (i ? ", " : "") + ctx_.deviceName(r.devices[i]) + " " + fixed(r.speeds[i], 0);
    batches_text +=
        (i ? ", " : "") + ctx_.deviceName(r.devices[i]) + " " + std::to_string(r.batches[i]);
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
