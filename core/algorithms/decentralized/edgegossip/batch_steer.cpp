#include "core/algorithms/decentralized/edgegossip/batch_steer.h"

#include <algorithm>
#include <cmath>

namespace edgerig {
namespace {

// The first measurement: after rounds 1 and 2 (round 0 left out).
constexpr int64_t kFirstWindow = 2;
// A device's rounds off its reference this many times running: its speed changed.
constexpr int kChangeRounds = 3;
// The rounds kept per device for its time model.
constexpr size_t kKeptRounds = 200;

}  // namespace

BatchSteer::BatchSteer(int64_t global, int64_t measure_every, double tolerance, double speed_change)
    : global_(global),
      measure_every_(std::max<int64_t>(1, measure_every)),
      tolerance_(tolerance),
      watch_(speed_change, kChangeRounds) {}

Result<std::optional<Rebalance>> BatchSteer::begin(int64_t iteration,
                                                   const std::vector<int>& members) {
  bool same = batch_.size() == members.size();
  for (int d : members) same = same && batch_.count(d);
  if (same) return std::optional<Rebalance>{};
  if (batch_.empty()) {
    // The start: nothing measured yet, an even split.
    const auto n = static_cast<int64_t>(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      const auto k = static_cast<int64_t>(i);
      batch_[members[i]] = global_ * (k + 1) / n - global_ * k / n;
    }
    return std::optional<Rebalance>{};
  }
  Rebalance why;
  why.why = Rebalance::Why::kMembersChanged;
  return rebalance(iteration, members, std::move(why));
}

Result<std::optional<Rebalance>> BatchSteer::done(int64_t iteration,
                                                  const std::vector<MeasuredRound>& rounds,
                                                  const std::vector<int>& members) {
  std::map<int, double> timed;
  for (const auto& r : rounds) {
    if (iteration == 0 || r.samples <= 0 || r.seconds <= 0) continue;  // first-touch costs
    auto& kept = rounds_[r.device];
    kept.push_back(RoundTime{static_cast<double>(r.samples), r.seconds});
    if (kept.size() > kKeptRounds) kept.erase(kept.begin());
    timed[r.device] = r.seconds;
  }
  // Off its reference, against the others, three rounds running is a change, not noise.
  std::vector<int> drifted = watch_.observe(timed);
  if (measured_at_ < 0) drifted.clear();
  Rebalance why;
  if (measured_at_ < 0 && iteration >= kFirstWindow) {
    why.why = Rebalance::Why::kStart;
  } else if (!drifted.empty()) {
    // Only the rounds since the change describe the device now, and they are its new reference:
    // the rounds after this one may already be another change.
    for (int d : drifted) {
      auto& kept = rounds_[d];
      const auto since = kept.end() - std::min<ptrdiff_t>(kChangeRounds, kept.size());
      // Its time model before the change, scaled by how much slower (or faster) the rounds
      // since are: the overhead it had stays in proportion, which 3 rounds of one batch size
      // alone cannot tell (time in proportion to the batch would give it too little).
      const TimeModel before = fitTime({kept.begin(), since});
      std::vector<double> now;
      for (auto it = since; it != kept.end(); ++it)
        now.push_back(it->seconds / before.at(it->batch));
      std::sort(now.begin(), now.end());
      if (before.c > 0 && !now.empty() && std::isfinite(now[now.size() / 2])) {
        const double scale = now[now.size() / 2];
        scaled_[d] = TimeModel{before.a * scale, before.c * scale};
      } else {
        scaled_.erase(d);
      }
      kept.erase(kept.begin(), since);
      watch_.rebase(d);
    }
    why.why = Rebalance::Why::kSpeedChanged;
    why.drifted = drifted;
  } else if (measured_at_ >= 0 && iteration - measured_at_ >= measure_every_) {
    why.why = Rebalance::Why::kPeriodic;
    why.since = iteration - measured_at_;
  } else {
    return std::optional<Rebalance>{};
  }
  return rebalance(iteration, members, std::move(why));
}

Result<std::optional<Rebalance>> BatchSteer::rebalance(int64_t iteration,
                                                       const std::vector<int>& members,
                                                       Rebalance out) {
  measured_at_ = iteration;
  watch_.keepOnly(members);
  std::map<int, TimeModel> fitted;
  TimeModel mean;
  for (int d : members) {
    if (rounds_.count(d) && !rounds_.at(d).empty()) {
      const auto& kept = rounds_.at(d);
      const bool one_size = std::all_of(kept.begin(), kept.end(), [&](const RoundTime& r) {
        return r.batch == kept.front().batch;
      });
      // Since a change of speed, until it has rounds of two batch sizes: its model from before,
      // scaled.
      if (!one_size) scaled_.erase(d);
      fitted[d] = one_size && scaled_.count(d) ? scaled_.at(d) : fitTime(kept);
      mean.a += fitted[d].a;
      mean.c += fitted[d].c;
    }
  }
  if (fitted.empty()) return std::optional<Rebalance>{};
  mean.a /= static_cast<double>(fitted.size());
  mean.c /= static_cast<double>(fitted.size());
  std::vector<TimeModel> models;
  std::vector<int64_t> current;
  for (int d : members) {
    models.push_back(fitted.count(d) ? fitted.at(d) : mean);
    current.push_back(batch_.count(d) ? batch_.at(d) : 0);
  }
  auto next = splitBatch(equalTimeBatches(models, global_), global_);
  if (!next) return next.status();
  const bool members_changed = batch_.size() != members.size();
  if (!members_changed && !worthRebalancing(current, *next, tolerance_)) {
    return std::optional<Rebalance>{};
  }
  // A device whose batch changes is judged against its model's time at the new batch (a
  // device without rounds yet: its first rounds); the others keep their references. Either way
  // a change that lands just after this measurement shows.
  for (size_t i = 0; i < members.size(); ++i) {
    if (current[i] == (*next)[i]) continue;
    if (fitted.count(members[i])) {
      watch_.expect(members[i], models[i].at(static_cast<double>((*next)[i])));
    } else {
      watch_.restart(members[i]);
    }
  }
  batch_.clear();
  out.devices = members;
  out.batches = *next;
  for (size_t i = 0; i < members.size(); ++i) {
    batch_[members[i]] = (*next)[i];
    const double b = static_cast<double>((*next)[i]);
    out.speeds.push_back(b / models[i].at(b));
  }
  return std::optional<Rebalance>{std::move(out)};
}

}  // namespace edgerig
