// The probe's receiving side: the rate of the bytes after the first chunk, by the receiver's clock,
// as the median of the rates between every two chunks (a few late reads do not move it); the
// sender is the session's authenticated name, not what a chunk claims; and what it keeps is
// bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/agent/probe_receiver.h"

namespace edgerig {
namespace {

using Clock = ProbeReceiver::Clock;

wire::ProbeData chunk(uint32_t seq, uint32_t chunks, size_t bytes, int from = 0) {
  wire::ProbeData d;
  d.set_probe_id(7);
  d.set_from(from);
  d.set_to(1);
  d.set_seq(seq);
  d.set_chunks(chunks);
  d.mutable_payload()->assign(bytes, 'x');
  return d;
}

TEST(ProbeReceiver, TimesTheBurstFromItsFirstChunkToItsLast) {
  ProbeReceiver rx;
  const auto t0 = Clock::now();
  // 4 chunks of 1000 bytes, 10 ms apart: 3000 bytes in 30 ms after the first.
  for (uint32_t k = 0; k < 3; ++k) {
    auto r = rx.onChunk("dev0", chunk(k, 4, 1000), t0 + std::chrono::milliseconds(10 * k));
    ASSERT_TRUE(r.isOk()) << r.status().message();
    EXPECT_FALSE(r->has_value());
  }
  auto r = rx.onChunk("dev0", chunk(3, 4, 1000), t0 + std::chrono::milliseconds(30));
  ASSERT_TRUE(r.isOk());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->bytes(), 3000u);
  EXPECT_NEAR((*r)->seconds(), 0.030, 1e-9);
  EXPECT_EQ((*r)->sender_name(), "dev0");
  EXPECT_EQ((*r)->probe_id(), 7u);
  EXPECT_EQ(rx.openBursts(), 0u) << "a finished burst is forgotten";
}

// A 32-chunk burst of 32 KiB chunks whose reads happen at `at_ms` (ms after the first): the rate
// the report gives, in bytes per second.
double reportedRate(const std::vector<double>& at_ms) {
  ProbeReceiver rx;
  const auto t0 = Clock::now();
  const auto n = static_cast<uint32_t>(at_ms.size());
  for (uint32_t k = 0; k < n; ++k) {
    const auto at = t0 + std::chrono::microseconds(static_cast<int64_t>(at_ms[k] * 1000));
    auto r = rx.onChunk("dev0", chunk(k, n, 32768), at);
    EXPECT_TRUE(r.isOk()) << r.status().message();
    if (k + 1 == n) {
      EXPECT_TRUE(r->has_value());
      if (!r->has_value()) return 0;
      EXPECT_EQ((*r)->bytes(), uint64_t{32768} * (n - 1));
      return static_cast<double>((*r)->bytes()) / (*r)->seconds();
    }
  }
  return 0;
}

// The pace of a 50 Mbit/s link: a 32 KiB chunk every 5.24 ms.
constexpr double kChunkMs = 32768 * 8 / 50e6 * 1000;
constexpr double kRate = 50e6 / 8;

TEST(ProbeReceiver, ChunksReadAtThePaceOfTheLinkGiveItsRate) {
  std::vector<double> at;
  for (int k = 0; k < 32; ++k) at.push_back(k * kChunkMs);
  EXPECT_NEAR(reportedRate(at), kRate, 1e-4 * kRate);  // read times are whole microseconds
}

// Under load the agent reads the first chunk 40 ms late, and the chunks queued meanwhile at once
// (as in a full test suite at ctest -j4, where a 50 Mbit/s cap measured 62). The span from the
// first read to the last would give 1.32x the rate; the median gives the link's.
TEST(ProbeReceiver, ALateFirstReadDoesNotInflateTheRate) {
  std::vector<double> at;
  for (int k = 0; k < 32; ++k) at.push_back(std::max(k * kChunkMs, 40.0));
  const double span_rate = 31 * 32768 / ((at.back() - at.front()) / 1000);
  ASSERT_GT(span_rate, 1.3 * kRate) << "the case the median is for";
  EXPECT_NEAR(reportedRate(at), kRate, 0.05 * kRate);
}

// The other ends: the last chunk read 40 ms late, and a 30 ms stall in the middle after which the
// queued chunks are read at once.
TEST(ProbeReceiver, ALateLastReadOrAStallInTheMiddleDoesNotMoveTheRate) {
  std::vector<double> late_last;
  for (int k = 0; k < 32; ++k) late_last.push_back(k * kChunkMs);
  late_last.back() += 40;
  EXPECT_NEAR(reportedRate(late_last), kRate, 0.05 * kRate);
  std::vector<double> stall;
  for (int k = 0; k < 32; ++k) stall.push_back(k * kChunkMs);
  for (int k = 12; k < 32 && stall[static_cast<size_t>(k)] < 12 * kChunkMs + 30; ++k) {
    stall[static_cast<size_t>(k)] = 12 * kChunkMs + 30;
  }
  EXPECT_NEAR(reportedRate(stall), kRate, 0.05 * kRate);
}

TEST(ProbeReceiver, TheSenderIsTheSessionsNameAndBurstsOfTwoPeersDoNotMix) {
  ProbeReceiver rx;
  const auto t0 = Clock::now();
  ASSERT_TRUE(rx.onChunk("dev0", chunk(0, 2, 100, /*from=*/0), t0).isOk());
  // dev3 claims to be device 0: its burst is its own, reported under its own name.
  ASSERT_TRUE(rx.onChunk("dev3", chunk(0, 2, 100, /*from=*/0), t0).isOk());
  auto a = rx.onChunk("dev3", chunk(1, 2, 100, 0), t0 + std::chrono::milliseconds(1));
  ASSERT_TRUE(a.isOk() && a->has_value());
  EXPECT_EQ((*a)->sender_name(), "dev3");
  auto b = rx.onChunk("dev0", chunk(1, 2, 100, 0), t0 + std::chrono::milliseconds(2));
  ASSERT_TRUE(b.isOk() && b->has_value());
  EXPECT_EQ((*b)->sender_name(), "dev0");
  EXPECT_NEAR((*b)->seconds(), 0.002, 1e-9);
}

TEST(ProbeReceiver, RefusesWhatNoProbeSendsAndKeepsBoundedState) {
  ProbeReceiver rx;
  const auto t = Clock::now();
  auto big = rx.onChunk("p", chunk(0, 4, kMaxProbeChunkBytes + 1), t);
  ASSERT_FALSE(big.isOk());
  EXPECT_NE(big.status().message().find("bytes"), std::string::npos) << big.status().message();
  auto many = rx.onChunk("p", chunk(0, 4000000000u, 1), t);
  ASSERT_FALSE(many.isOk());
  EXPECT_NE(many.status().message().find("4000000000 chunks"), std::string::npos)
      << many.status().message();
  EXPECT_FALSE(rx.onChunk("p", chunk(1, 1, 1), t).isOk()) << "one chunk cannot be timed";
  EXPECT_FALSE(rx.onChunk("p", chunk(2, 4, 1), t).isOk()) << "no burst begun";
  ASSERT_TRUE(rx.onChunk("p", chunk(0, 4, 1), t).isOk());
  auto skip = rx.onChunk("p", chunk(2, 4, 1), t);
  ASSERT_FALSE(skip.isOk()) << "chunk 1 is missing";
  EXPECT_NE(skip.status().message().find("from p"), std::string::npos) << skip.status().message();
  EXPECT_EQ(rx.openBursts(), 0u) << "a refused burst is dropped";
  for (size_t i = 0; i < kMaxOpenProbeBursts; ++i) {
    ASSERT_TRUE(rx.onChunk("peer" + std::to_string(i), chunk(0, 4, 1), t).isOk());
  }
  EXPECT_FALSE(rx.onChunk("one-too-many", chunk(0, 4, 1), t).isOk());
  EXPECT_EQ(rx.openBursts(), kMaxOpenProbeBursts);
}

}  // namespace
}  // namespace edgerig
