// The probe's receiving side: the rate is the bytes after the first chunk over the time from the
// first chunk's arrival to the last's, by the receiver's clock; the sender is the session's
// authenticated name, not what a chunk claims; and what it keeps is bounded.
#include <gtest/gtest.h>

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
