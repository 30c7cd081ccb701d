#include "core/algorithms/compute_meter.h"

#include <thread>

namespace edgerig {
namespace {
int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void ComputeMeter::setSlowdown(double s) { slowdown_.store(s < 1.0 ? 1.0 : s); }
double ComputeMeter::slowdown() const { return slowdown_.load(); }

double ComputeMeter::afterCompute(double seconds) {
  const double extra = (slowdown_.load() - 1.0) * seconds;
  if (extra > 0) std::this_thread::sleep_for(std::chrono::duration<double>(extra));
  waitWhileFrozen();
  const double total = seconds + (extra > 0 ? extra : 0);
  busy_s_.fetch_add(total);
  return total;
}

void ComputeMeter::addSamples(int64_t n) { samples_.fetch_add(n); }

void ComputeMeter::freezeUntil(std::chrono::steady_clock::time_point t) {
  frozen_until_ns_.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

bool ComputeMeter::frozen() const { return nowNs() < frozen_until_ns_.load(); }

void ComputeMeter::waitWhileFrozen() const {
  while (frozen()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

double ComputeMeter::busySeconds() const { return busy_s_.load(); }
int64_t ComputeMeter::samples() const { return samples_.load(); }

}  // namespace edgerig
