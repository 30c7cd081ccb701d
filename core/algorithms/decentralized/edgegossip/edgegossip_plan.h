// edgegossip's decisions, as pure functions of what the coordinator measured (our design,
// docs/design.md "edgegossip"): each device's local batch from its measured speed, and the
// accuracy-aware exchange period.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

// Local batches proportional to `speeds` (samples/s, each > 0) that sum exactly to `global`,
// each at least 1 and at most `cap` (a device's shard; 0: no cap): the ideal shares rounded by
// largest remainder (ties to the lower index), then moved one sample at a time off the devices
// over their cap or onto those under 1. Fails when the devices cannot hold `global` (n × cap <
// global, or global < n).
Result<std::vector<int64_t>> splitBatch(const std::vector<double>& speeds, int64_t global,
                                        int64_t cap = 0);

// A device's rounds as measured: its local batch and the charged compute seconds they took.
struct RoundTime {
  double batch = 0;
  double seconds = 0;
};

// A round's time as a + c·batch: a per-round overhead and a per-sample cost. Each batch size
// seen counts by its median round time (noise of a busy machine moves nothing); fitted by least
// squares over those when more than one size was seen; otherwise a = 0 and c = median seconds /
// batch, time in proportion to the batch. a ≥ 0 and c > 0 always (a fit that says
// otherwise falls back to the proportional model), and c is at least a quarter of the average
// cost of a sample at the largest batch seen (then a is refitted): the model never predicts
// more than 4× the samples/s measured there. Zero model for no rounds.
struct TimeModel {
  double a = 0;
  double c = 0;
  double at(double batch) const { return a + c * batch; }
};
TimeModel fitTime(const std::vector<RoundTime>& rounds);

// Real batches that give every device the same predicted time and sum to `global`: b_i =
// (T − a_i)/c_i with T = (global + Σ a_i/c_i) / Σ 1/c_i; a device whose overhead alone exceeds
// T gets a tiny share (splitBatch then gives it 1). With every a = 0 this is the split in
// proportion to speed 1/c.
std::vector<double> equalTimeBatches(const std::vector<TimeModel>& models, int64_t global);

// Whether `next` differs enough from `current` to be worth a change: some device's batch moves
// by more than `tolerance` of its current one.
bool worthRebalancing(const std::vector<int64_t>& current, const std::vector<int64_t>& next,
                      double tolerance);

// A change of a device's speed, told from noise: a device whose round time is off its reference
// (the median of its first `rounds` rounds since it was last restarted) by more than `change`
// (a fraction) `rounds` rounds running has changed speed. The median, so one stalled round among
// the first does not inflate the reference until a real slowdown no longer looks off. Each
// device's time over its reference is judged against the same ratio of the others in that round
// (their median): a busy machine slows every device alike, which changes nobody's share of the
// batch, so a load burst in the reference rounds, or just before a real change, hides nothing.
class SpeedWatch {
 public:
  explicit SpeedWatch(double change, int rounds = 3);
  // One round: each device's seconds. Returns the devices whose speed has changed (then restart
  // or rebase each), the one that moved most against its own reference first.
  std::vector<int> observe(const std::map<int, double>& round);
  // One device alone in its round: judged against its own reference only.
  bool observe(int device, double seconds) { return !observe({{device, seconds}}).empty(); }
  // Forgets what `device`'s rounds looked like: its batch changed, its next rounds are the
  // reference.
  void restart(int device);
  // Its batch changed and its time model predicts `seconds` a round at the new one: that is its
  // reference from the next round on, so a change in the first rounds at the new batch shows
  // too (restart would take those rounds as the reference).
  void expect(int device, double seconds);
  // Its speed changed (observe said so): the rounds that showed the change are its reference
  // from now on, so a further change in the rounds just after shows too.
  void rebase(int device);
  // Forgets every device not in `devices`.
  void keepOnly(const std::vector<int>& devices);
  // The device's reference round time; 0 until its first `rounds` rounds are in.
  double reference(int device) const;

 private:
  struct Device {
    std::vector<double> first;   // the first rounds since the last restart
    std::vector<double> recent;  // the last `rounds` rounds
    int off = 0;                 // rounds in a row off the reference
  };
  double change_;
  size_t rounds_;
  std::map<int, Device> devices_;
};

// The accuracy-aware exchange period: 1, 2, 4 … between `min` and `max` (powers of two). After
// each evaluation: accuracy risen by more than `stall` since the best seen → twice as long (the
// models drift apart slowly enough); otherwise (a stall) → half as long.
class ExchangePeriod {
 public:
  ExchangePeriod(int64_t min, int64_t max, double stall);
  int64_t period() const { return period_; }
  // The new period after an evaluation of `accuracy`.
  int64_t update(double accuracy);
  // Whether round `iteration` exchanges: the first round, then every period() rounds since the
  // last exchange.
  bool exchangesAt(int64_t iteration);

 private:
  int64_t min_, max_;
  double stall_;
  int64_t period_;
  double best_ = -1;
  int64_t last_exchange_ = -1;
};

}  // namespace edgerig
