// Seeded mini-batch sampling: the same batches everywhere, a new permutation every epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/data/sampler.h"

namespace edgerig {
namespace {

TEST(EpochSampler, CountsDropTheLastPartialBatch) {
  const EpochSampler s(1000, 64, 1);
  EXPECT_EQ(s.batchesPerEpoch(), 15);
  EXPECT_EQ(s.epochOf(0), 0);
  EXPECT_EQ(s.epochOf(14), 0);
  EXPECT_EQ(s.epochOf(15), 1);
  EXPECT_EQ(s.epochOf(31), 2);
  EXPECT_EQ(s.batch(3).size(), 64u);
  const EpochSampler tiny(10, 64, 1);
  EXPECT_EQ(tiny.batchesPerEpoch(), 0);
  EXPECT_TRUE(tiny.batch(0).empty());
}

TEST(EpochSampler, SameSeedSameBatchesInAnyOrderOfAsking) {
  const EpochSampler a(500, 32, 9), b(500, 32, 9);
  EXPECT_EQ(a.batch(40), b.batch(40));  // epoch 2, asked first
  for (int64_t it = 0; it < 45; ++it) EXPECT_EQ(a.batch(it), b.batch(it)) << it;
  const EpochSampler c(500, 32, 10);
  EXPECT_NE(a.batch(0), c.batch(0));
}

TEST(EpochSampler, EachEpochVisitsEveryKeptIndexOnce) {
  const EpochSampler s(1000, 50, 4);  // 20 full batches, nothing dropped
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen;
    for (int64_t b = 0; b < s.batchesPerEpoch(); ++b) {
      const std::vector<int64_t> batch = s.batch(epoch * s.batchesPerEpoch() + b);
      seen.insert(seen.end(), batch.begin(), batch.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<int64_t> all(1000);
    std::iota(all.begin(), all.end(), int64_t{0});
    EXPECT_EQ(seen, all) << "epoch " << epoch;
  }
}

TEST(EpochSampler, WithADroppedRemainderIndicesAreDistinctAndInRange) {
  const EpochSampler s(1003, 100, 4);
  std::vector<int64_t> seen;
  for (int64_t b = 0; b < s.batchesPerEpoch(); ++b) {
    const std::vector<int64_t> batch = s.batch(b);
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_GE(seen.front(), 0);
  EXPECT_LT(seen.back(), 1003);
}

TEST(EpochSampler, EpochsArePermutedDifferently) {
  const EpochSampler s(200, 20, 2);
  EXPECT_NE(s.permutation(0), s.permutation(1));
  EXPECT_NE(s.batch(0), s.batch(s.batchesPerEpoch()));
  // The permutation is a real shuffle, not the identity or close to it.
  const std::vector<int64_t> p = s.permutation(0);
  int fixed = 0;
  for (size_t i = 0; i < p.size(); ++i) fixed += p[i] == static_cast<int64_t>(i);
  EXPECT_LT(fixed, 10);
}

TEST(EvalBatches, SequentialChunksWithAShortLastOne) {
  const auto batches = evalBatches(10, 4);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0], (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(batches[2], (std::vector<int64_t>{8, 9}));
  EXPECT_TRUE(evalBatches(0, 4).empty());
  EXPECT_EQ(evalBatches(8, 4).size(), 2u);
}

}  // namespace
}  // namespace edgerig
