// edgegossip's steering of the local batches (our design, docs/design.md "edgegossip", rules 2
// and 5), as a pure function of what the coordinator measured: the even split at the start, the
// first measurement after rounds 1 and 2, a rebalance at once when a device's speed changes or
// the members change, and one every `measureEvery` rounds. The coordinator feeds it each round's
// charged compute seconds and announces what it decides; tests feed it scripted round times.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/algorithms/decentralized/edgegossip/edgegossip_plan.h"
#include "device_bridge/status.h"

namespace edgerig {

// One device's round as measured: the samples it stepped and the charged compute seconds.
struct MeasuredRound {
  int device = 0;
  int64_t samples = 0;
  double seconds = 0;
};

// A new split of the global batch, to announce.
struct Rebalance {
  enum class Why { kStart, kMembersChanged, kSpeedChanged, kPeriodic };
  Why why = Why::kStart;
  std::vector<int> drifted;  // kSpeedChanged: the devices whose speed changed
  int64_t since = 0;         // kPeriodic: rounds since the last measurement
  std::vector<int> devices;
  std::vector<int64_t> batches;  // per device, in `devices`' order
  std::vector<double> speeds;    // samples/s each is predicted to reach at its batch
};

class BatchSteer {
 public:
  // `global`: the global batch, split over the members; `tolerance`: a new split is taken only
  // when some device's batch moves by more than this fraction; `speed_change`: SpeedWatch's.
  BatchSteer(int64_t global, int64_t measure_every, double tolerance, double speed_change);

  // Before round `iteration`, with its members: the even split at the start (not announced),
  // or a rebalance when the members changed since the last round.
  Result<std::optional<Rebalance>> begin(int64_t iteration, const std::vector<int>& members);
  // Round `iteration`'s measurements (round 0's first-touch costs are left out): a rebalance
  // when one is due and worth taking.
  Result<std::optional<Rebalance>> done(int64_t iteration, const std::vector<MeasuredRound>& rounds,
                                        const std::vector<int>& members);

  int64_t global() const { return global_; }
  const std::map<int, int64_t>& batches() const { return batch_; }

 private:
  // New batches from each member's time model, fitted to its rounds (a device without rounds
  // yet: the members' mean model); nothing when the change is within the tolerance.
  Result<std::optional<Rebalance>> rebalance(int64_t iteration, const std::vector<int>& members,
                                             Rebalance why);

  int64_t global_;
  int64_t measure_every_;
  double tolerance_;
  std::map<int, int64_t> batch_;
  std::map<int, std::vector<RoundTime>> rounds_;  // since its speed last changed (round 0 out)
  std::map<int, TimeModel> scaled_;  // since its speed changed: its model from before, scaled
  SpeedWatch watch_;          // each device's round time against its speed since its batch changed
  int64_t measured_at_ = -1;  // the round of the last measurement
};

}  // namespace edgerig
