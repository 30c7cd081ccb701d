// LinkShaper as pure arithmetic: serialization at the cap, delay, jitter bounds, ordering,
// emulated drops, and determinism from the seed.
#include <gtest/gtest.h>

#include <vector>

#include "device_bridge/link_shaper.h"

namespace edgerig::bridge {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(LinkShaper, UnshapedDeliversAtOnce) {
  LinkShaper s;
  EXPECT_FALSE(s.shape().active());
  EXPECT_EQ(s.schedule(1 << 20, kT0), kT0);
  EXPECT_EQ(s.shape().describe(), "unshaped");
}

TEST(LinkShaper, BandwidthCapGivesSerializationTime) {
  LinkShaper s;
  s.setShape({.bandwidth_mbps = 8});  // 1 MB/s: 1 byte per microsecond
  EXPECT_NEAR(ms(s.serializationTime(1'000'000)), 1000.0, 1e-6);
  // Back to back: each frame waits for the previous one to finish.
  EXPECT_NEAR(ms(s.schedule(100'000, kT0) - kT0), 100.0, 1e-3);
  EXPECT_NEAR(ms(s.schedule(100'000, kT0) - kT0), 200.0, 1e-3);
  EXPECT_NEAR(ms(s.schedule(50'000, kT0 + milliseconds(10)) - kT0), 250.0, 1e-3);
  // An idle link starts at once; no credit is saved for a burst.
  EXPECT_NEAR(ms(s.schedule(100'000, kT0 + milliseconds(1000)) - kT0), 1100.0, 1e-3);
}

TEST(LinkShaper, AVanishingCapNeverOverflowsTheClock) {
  // 64 MiB at 1e-300 Mbit/s is 5e305 ms: converted as it is, the clock's 64-bit nanoseconds
  // overflowed and the frame was "delivered" before the one ahead of it (fuzz_agent_dispatch,
  // fuzz/regressions/agent_dispatch/). Shaped times stop at about 31 years.
  LinkShaper s;
  s.setShape({.delay_ms = 1e300, .bandwidth_mbps = 1e-300});
  const auto first = s.schedule(1, kT0);
  const auto second = s.schedule(64u << 20, kT0);
  EXPECT_GT(first, kT0);
  EXPECT_GE(second, first) << "frames leave in order";
  EXPECT_LT(second - kT0, std::chrono::hours(24 * 366 * 100));  // three terms of ~31 years
}

TEST(LinkShaper, DelayAddsToEveryFrameWithoutSlowingThroughput) {
  LinkShaper s;
  s.setShape({.delay_ms = 30, .bandwidth_mbps = 8});
  EXPECT_NEAR(ms(s.schedule(10'000, kT0) - kT0), 40.0, 1e-3);
  EXPECT_NEAR(ms(s.schedule(10'000, kT0) - kT0), 50.0, 1e-3);  // pipelined, not 80
  EXPECT_EQ(s.shape().describe(), "delay 30 ms, 8 Mbit/s");
}

TEST(LinkShaper, JitterStaysInBoundsAndOrderIsKept) {
  LinkShaper s(7);
  s.setShape({.delay_ms = 10, .jitter_ms = 5});
  Clock::time_point previous = kT0;
  double lo = 1e9, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    const Clock::time_point now = kT0 + milliseconds(10 * i);
    const Clock::time_point at = s.schedule(100, now);
    EXPECT_GE(at, previous);
    const double extra = ms(at - now);
    EXPECT_GE(extra, 10.0 - 1e-6);
    EXPECT_LE(extra, 15.0 + 1e-6);
    lo = std::min(lo, extra);
    hi = std::max(hi, extra);
    previous = at;
  }
  // Spread over the whole interval, not a constant.
  EXPECT_LT(lo, 10.5);
  EXPECT_GT(hi, 14.5);
}

TEST(LinkShaper, FramesNeverOvertakeEachOther) {
  LinkShaper s(3);
  s.setShape({.jitter_ms = 50});
  Clock::time_point previous{};
  for (int i = 0; i < 500; ++i) {
    const auto at = s.schedule(10, kT0 + microseconds(100 * i));
    EXPECT_GE(at, previous);
    previous = at;
  }
}

TEST(LinkShaper, SameSeedSameSchedule) {
  const LinkShape shape{
      .delay_ms = 5, .jitter_ms = 20, .bandwidth_mbps = 100, .drop_probability = 0.2};
  auto run = [&](uint64_t seed) {
    LinkShaper s(seed);
    s.setShape(shape);
    std::vector<Clock::duration> out;
    for (int i = 0; i < 200; ++i) out.push_back(s.schedule(1000 + i, kT0 + milliseconds(i)) - kT0);
    return out;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

TEST(LinkShaper, DropsCostRetransmitTimeouts) {
  LinkShaper always(1);
  always.setShape({.drop_probability = 1.0});
  // Every attempt dropped: capped at ten retransmits, never lost.
  EXPECT_EQ(always.schedule(100, kT0) - kT0, 10 * kRetransmitTimeout);
  EXPECT_EQ(always.dropsEmulated(), 10u);

  LinkShaper some(5);
  some.setShape({.drop_probability = 0.1});
  const int n = 20000;
  Clock::time_point now = kT0;
  Clock::duration total{};
  for (int i = 0; i < n; ++i) {
    now += std::chrono::seconds(10);  // far apart, so ordering adds nothing
    const auto at = some.schedule(100, now);
    const auto extra = at - now;
    EXPECT_EQ(extra % kRetransmitTimeout, Clock::duration::zero());
    total += extra;
  }
  // Geometric: expected p / (1 - p) retransmits per frame.
  const double per_frame = static_cast<double>(some.dropsEmulated()) / n;
  EXPECT_NEAR(per_frame, 0.1 / 0.9, 0.01);
  EXPECT_EQ(total, static_cast<int64_t>(some.dropsEmulated()) * kRetransmitTimeout);
}

TEST(LinkShaper, NonsenseValuesAreIgnored) {
  LinkShaper s;
  s.setShape({.delay_ms = -5, .jitter_ms = -1, .bandwidth_mbps = -3, .drop_probability = -0.5});
  EXPECT_FALSE(s.shape().active());
  EXPECT_EQ(s.schedule(1000, kT0), kT0);
}

}  // namespace
}  // namespace edgerig::bridge
