// The controller side of edgegossip (our design, docs/design.md "edgegossip"): the family's
// gossip coordinator on an undirected graph, steering each round. It measures every device's
// speed from its charged compute seconds per round (an emulated slowdown counts, it is a real
// wait) after the first rounds and then every `measureEvery` rounds, or at once when a device's
// round time moves off its reference by more than `speedChange` three rounds running; gives each
// device the local batch that makes every round take the same time (the global batch, devices ×
// training.batchSize at the start, fixed: a lost device's share goes to the survivors); has each
// device's update count in proportion to its batch (GossipStep.mix_weight, batch / mean batch,
// weighs its gradient; the models average with dpsgd's weights); and exchanges every 1, 2, 4 …
// rounds, longer while the periodic validation accuracy rises, shorter when it stalls. Every
// rebalance is a `replanned` event and every change of period an `exchange_period_changed` one; the
// per-device metrics `local_batch` and `iteration_time` and the run-level `exchange_period` are
// written every round.
#pragma once

#include <map>

#include "core/algorithms/decentralized/common/gossip_coordinator.h"
#include "core/algorithms/decentralized/edgegossip/edgegossip_plan.h"

namespace edgerig {

inline constexpr std::string_view kExchangePeriodChanged = "exchange_period_changed";

class EdgeGossipCoordinator : public GossipCoordinator {
 public:
  EdgeGossipCoordinator(RunContext& ctx, GossipRules rules);

  Status setup() override;
  int64_t iterationsPerEpoch() const override;
  Result<EvalResult> evaluate(int64_t samples) override;

 protected:
  void beginRound(int64_t iteration) override;
  void prepareStep(int device, decentralized::GossipStep& step) override;
  void roundDone(int64_t iteration, const StepResult& result) override;

 private:
  // New batches from each member's time model, fitted to its rounds (a device without rounds
  // yet: the members' mean model).
  // `drifted`: the devices whose speed changed (their references are rebuilt either way).
  void rebalance(int64_t iteration, const std::string& why, const std::vector<int>& drifted = {});

  int64_t global_ = 0;
  int64_t measure_every_;
  double tolerance_;
  ExchangePeriod period_;
  bool exchange_ = true;
  std::map<int, int64_t> batch_;
  std::map<int, std::vector<RoundTime>> rounds_;  // since its speed last changed (round 0 out)
  SpeedWatch watch_;          // each device's round time against its speed since its batch changed
  int64_t measured_at_ = -1;  // the round of the last measurement
};

}  // namespace edgerig
