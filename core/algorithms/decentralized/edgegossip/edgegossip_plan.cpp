#include "core/algorithms/decentralized/edgegossip/edgegossip_plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>
#include <utility>

namespace edgerig {

Result<std::vector<int64_t>> splitBatch(const std::vector<double>& speeds, int64_t global,
                                        int64_t cap) {
  const int64_t n = static_cast<int64_t>(speeds.size());
  if (n == 0) return invalidArgument("no device to split the global batch over");
  if (global < n) {
    return invalidArgument("a global batch of " + std::to_string(global) + " cannot give " +
                           std::to_string(n) + " devices one sample each");
  }
  if (cap > 0 && cap * n < global) {
    return invalidArgument("a global batch of " + std::to_string(global) + " does not fit " +
                           std::to_string(n) + " shards of " + std::to_string(cap));
  }
  double total = 0;
  for (double s : speeds) {
    if (!(s > 0) || !std::isfinite(s)) {
      return invalidArgument("a measured speed of " + std::to_string(s) + " samples/s");
    }
    total += s;
  }
  std::vector<int64_t> out(speeds.size());
  std::vector<double> remainder(speeds.size());
  int64_t given = 0;
  for (size_t i = 0; i < speeds.size(); ++i) {
    const double ideal = static_cast<double>(global) * speeds[i] / total;
    out[i] = static_cast<int64_t>(std::floor(ideal));
    remainder[i] = ideal - static_cast<double>(out[i]);
    given += out[i];
  }
  std::vector<size_t> order(speeds.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t k = 0; given < global; k = (k + 1) % order.size(), ++given) ++out[order[k]];
  // Bounds: every device at least 1, at most cap; what moves goes to (or comes from) the device
  // with the most room relative to its speed.
  const int64_t hi = cap > 0 ? cap : global;
  for (;;) {
    auto low = std::find_if(out.begin(), out.end(), [](int64_t b) { return b < 1; });
    auto high = std::find_if(out.begin(), out.end(), [&](int64_t b) { return b > hi; });
    if (low == out.end() && high == out.end()) break;
    if (low != out.end()) {
      // Take one from the largest batch.
      ++*low;
      --*std::max_element(out.begin(), out.end());
    } else {
      --*high;
      // Give it to the fastest device with room.
      size_t best = speeds.size();
      for (size_t i = 0; i < speeds.size(); ++i) {
        if (out[i] < hi && (best == speeds.size() || speeds[i] > speeds[best])) best = i;
      }
      ++out[best];
    }
  }
  return out;
}

namespace {
// fitTime's bound on the fitted slope (our design, docs/design.md "edgegossip", rule 1).
constexpr double kLeastMarginal = 0.25;
}  // namespace

TimeModel fitTime(const std::vector<RoundTime>& rounds) {
  if (rounds.empty()) return {};
  // The median time of each batch size seen: one slow round (a busy machine) moves nothing.
  std::map<double, std::vector<double>> levels;
  for (const auto& r : rounds) levels[r.batch].push_back(r.seconds);
  std::vector<std::pair<double, double>> points;  // (batch, median seconds)
  std::vector<double> per_sample;
  for (auto& [b, times] : levels) {
    std::sort(times.begin(), times.end());
    const double median = times[times.size() / 2];
    points.emplace_back(b, median);
    if (b > 0) per_sample.push_back(median / b);
  }
  std::sort(per_sample.begin(), per_sample.end());
  const TimeModel proportional{0, per_sample.empty() ? 1e-9 : per_sample[per_sample.size() / 2]};
  if (points.size() < 2) return proportional;
  double mb = 0, mt = 0;
  for (const auto& [b, t] : points) mb += b, mt += t;
  mb /= static_cast<double>(points.size());
  mt /= static_cast<double>(points.size());
  double cov = 0, var = 0;
  for (const auto& [b, t] : points) {
    cov += (b - mb) * (t - mt);
    var += (b - mb) * (b - mb);
  }
  if (var <= 0) return proportional;
  double c = cov / var;
  double a = mt - c * mb;
  if (!(c > 0) || a < 0 || !std::isfinite(a)) return proportional;
  // A sample's cost at the margin is at least kLeastMarginal of its average cost at the largest
  // batch measured: two noisy levels can fit a nearly flat line, which predicts a device that
  // could take any batch for free (seen under load: a device slowed 4× given 140 of 384).
  const auto& [b_max, t_max] = points.back();
  const double least = kLeastMarginal * t_max / b_max;
  if (c < least) {
    c = least;
    a = std::max(0.0, mt - c * mb);
  }
  return {a, c};
}

std::vector<double> equalTimeBatches(const std::vector<TimeModel>& models, int64_t global) {
  double inv = 0, offset = 0;
  for (const auto& m : models) {
    inv += 1.0 / m.c;
    offset += m.a / m.c;
  }
  const double t = (static_cast<double>(global) + offset) / inv;
  std::vector<double> out;
  for (const auto& m : models) out.push_back(std::max((t - m.a) / m.c, 1e-3));
  return out;
}

bool worthRebalancing(const std::vector<int64_t>& current, const std::vector<int64_t>& next,
                      double tolerance) {
  if (current.size() != next.size()) return true;
  for (size_t i = 0; i < current.size(); ++i) {
    const double base = static_cast<double>(std::max<int64_t>(current[i], 1));
    if (std::abs(static_cast<double>(next[i] - current[i])) > tolerance * base) return true;
  }
  return false;
}

SpeedWatch::SpeedWatch(double change, int rounds)
    : change_(change), rounds_(static_cast<size_t>(std::max(rounds, 1))) {}

std::vector<int> SpeedWatch::observe(const std::map<int, double>& round) {
  std::map<int, double> ratio;  // time over reference, of the devices that have a reference
  for (const auto& [device, seconds] : round) {
    Device& d = devices_[device];
    d.recent.push_back(seconds);
    if (d.recent.size() > rounds_) d.recent.erase(d.recent.begin());
    if (d.first.size() < rounds_) {
      d.first.push_back(seconds);
      continue;
    }
    const double ref = reference(device);
    if (ref > 0) ratio[device] = seconds / ref;
  }
  std::vector<int> changed;
  for (const auto& [device, r] : ratio) {
    // The others' median ratio: how much slower the machine is this round for everyone.
    std::vector<double> others;
    for (const auto& [other, o] : ratio) {
      if (other != device) others.push_back(o);
    }
    double machine = 1;
    if (!others.empty()) {
      std::sort(others.begin(), others.end());
      const size_t m = others.size() / 2;
      machine = others.size() % 2 ? others[m] : (others[m - 1] + others[m]) / 2;
    }
    Device& d = devices_[device];
    d.off = machine > 0 && std::abs(r / machine - 1.0) > change_ ? d.off + 1 : 0;
    if (d.off >= static_cast<int>(rounds_)) changed.push_back(device);
  }
  // The one that moved most against its own reference first: with two devices both are off
  // against the other, and the one that changed is the one that moved.
  std::stable_sort(changed.begin(), changed.end(), [&](int a, int b) {
    return std::abs(std::log(ratio.at(a))) > std::abs(std::log(ratio.at(b)));
  });
  return changed;
}

void SpeedWatch::restart(int device) { devices_.erase(device); }

void SpeedWatch::expect(int device, double seconds) {
  if (!(seconds > 0) || !std::isfinite(seconds)) {
    restart(device);
    return;
  }
  Device& d = devices_[device];
  d.first.assign(rounds_, seconds);
  d.recent.clear();
  d.off = 0;
}

void SpeedWatch::rebase(int device) {
  auto it = devices_.find(device);
  if (it == devices_.end()) return;
  if (it->second.recent.size() < rounds_) {
    devices_.erase(it);
    return;
  }
  it->second.first = it->second.recent;
  it->second.off = 0;
}

void SpeedWatch::keepOnly(const std::vector<int>& devices) {
  for (auto it = devices_.begin(); it != devices_.end();) {
    const bool kept = std::find(devices.begin(), devices.end(), it->first) != devices.end();
    it = kept ? std::next(it) : devices_.erase(it);
  }
}

double SpeedWatch::reference(int device) const {
  const auto it = devices_.find(device);
  if (it == devices_.end() || it->second.first.size() < rounds_) return 0;
  std::vector<double> sorted = it->second.first;
  std::sort(sorted.begin(), sorted.end());
  return sorted[sorted.size() / 2];
}

ExchangePeriod::ExchangePeriod(int64_t min, int64_t max, double stall)
    : min_(std::max<int64_t>(min, 1)),
      max_(std::max(max, std::max<int64_t>(min, 1))),
      stall_(stall),
      period_(min_) {}

int64_t ExchangePeriod::update(double accuracy) {
  if (accuracy > best_ + stall_) {
    period_ = std::min(max_, period_ * 2);
  } else {
    period_ = std::max(min_, period_ / 2);
  }
  best_ = std::max(best_, accuracy);
  return period_;
}

bool ExchangePeriod::exchangesAt(int64_t iteration) {
  if (last_exchange_ < 0 || iteration - last_exchange_ >= period_) {
    last_exchange_ = iteration;
    return true;
  }
  return false;
}

}  // namespace edgerig
