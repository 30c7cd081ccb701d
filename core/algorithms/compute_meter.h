// Compute accounting and the slow-device emulation: after a compute step of t seconds the
// trainer waits (s - 1)·t, so a device with slowdown s looks s times slower to everyone.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

namespace edgerig {

class ComputeMeter {
 public:
  void setSlowdown(double s);
  double slowdown() const;

  // Called after a compute step that took `seconds`; sleeps the emulated extra time and
  // counts the whole as busy. Returns the emulated duration.
  double afterCompute(double seconds);
  void addSamples(int64_t n);

  // Freeze: compute waits until the freeze is over (the agent "stops processing").
  void freezeUntil(std::chrono::steady_clock::time_point t);
  bool frozen() const;
  void waitWhileFrozen() const;

  double busySeconds() const;
  int64_t samples() const;

 private:
  std::atomic<double> slowdown_{1.0};
  std::atomic<double> busy_s_{0.0};
  std::atomic<int64_t> samples_{0};
  std::atomic<int64_t> frozen_until_ns_{0};
};

}  // namespace edgerig
