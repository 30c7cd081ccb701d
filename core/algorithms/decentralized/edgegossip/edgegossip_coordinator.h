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

#include <optional>

#include "core/algorithms/decentralized/common/gossip_coordinator.h"
#include "core/algorithms/decentralized/edgegossip/batch_steer.h"
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
  // Announces what the steering decided: a `replanned` event, or an error event when it could
  // not split the batch.
  void announce(int64_t iteration, const Result<std::optional<Rebalance>>& decided);

  std::optional<BatchSteer> steer_;  // from setup(), which knows the members
  ExchangePeriod period_;
  bool exchange_ = true;
};

}  // namespace edgerig
