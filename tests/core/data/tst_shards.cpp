// Shards of a decentralized run: a partition of the training set, deterministic from the seed,
// as skewed as the split says (iid balanced, Dirichlet α skews more as α falls, k classes per
// device gives exactly k), and errors that name the field that cannot be met.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/data/random_stream.h"
#include "core/data/shards.h"

namespace edgerig {
namespace {

// 10 classes, `per_class` samples each, interleaved as a real dataset would be.
std::vector<int64_t> labels(int per_class) {
  std::vector<int64_t> out;
  for (int i = 0; i < per_class; ++i) {
    for (int c = 0; c < 10; ++c) out.push_back(c);
  }
  return out;
}

// Every index exactly once across the shards, each shard ascending.
void expectPartition(const std::vector<std::vector<int64_t>>& shards, size_t n) {
  std::vector<int64_t> all;
  for (const auto& s : shards) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i));
}

// Mean over devices of the largest class's share of the device's shard.
double meanTopShare(const std::vector<int64_t>& l, const std::vector<std::vector<int64_t>>& s) {
  double sum = 0;
  for (const auto& shard : s) {
    auto c = classCounts(l, shard, 10);
    sum += static_cast<double>(*std::max_element(c.begin(), c.end())) /
           static_cast<double>(shard.size());
  }
  return sum / static_cast<double>(s.size());
}

TEST(Shards, IidIsABalancedPartition) {
  const auto l = labels(1000);  // 10000 samples
  auto s = shardIndices(l, 10, 3, {"iid", 0.5, 2}, 42);
  ASSERT_TRUE(s) << s.status().message();
  expectPartition(*s, l.size());
  EXPECT_EQ((*s)[0].size(), 3334u);  // 10000 = 3334 + 3333 + 3333
  EXPECT_EQ((*s)[1].size(), 3333u);
  EXPECT_EQ((*s)[2].size(), 3333u);
  // Every class near its tenth of each shard.
  for (const auto& shard : *s) {
    for (int64_t n : classCounts(l, shard, 10)) EXPECT_NEAR(n, 333, 60);
  }
}

TEST(Shards, TheSeedAloneDecides) {
  const auto l = labels(500);
  for (const char* kind : {"iid", "dirichlet", "classes"}) {
    auto a = shardIndices(l, 10, 4, {kind, 0.3, 2}, 7);
    auto b = shardIndices(l, 10, 4, {kind, 0.3, 2}, 7);
    auto c = shardIndices(l, 10, 4, {kind, 0.3, 2}, 8);
    ASSERT_TRUE(a && b && c) << kind;
    EXPECT_EQ(*a, *b) << kind;
    EXPECT_NE(*a, *c) << kind << ": another seed, other shards";
  }
}

TEST(Shards, DirichletSkewGrowsAsAlphaFalls) {
  const auto l = labels(1000);
  double previous = 1.0;
  for (double alpha : {0.05, 0.5, 5.0, 500.0}) {
    auto s = shardIndices(l, 10, 8, {"dirichlet", alpha, 2}, 3);
    ASSERT_TRUE(s) << s.status().message();
    expectPartition(*s, l.size());
    for (const auto& shard : *s) EXPECT_GE(shard.size(), static_cast<size_t>(kMinShardSize));
    const double top = meanTopShare(l, *s);
    EXPECT_LT(top, previous) << "alpha " << alpha;
    previous = top;
  }
  EXPECT_LT(previous, 0.13) << "alpha 500 is close to iid (0.1)";
  auto skewed = shardIndices(l, 10, 8, {"dirichlet", 0.05, 2}, 3);
  EXPECT_GT(meanTopShare(l, *skewed), 0.6) << "alpha 0.05 gives each device mostly one class";
}

TEST(Shards, ClassesPerDeviceGivesExactlyThoseClasses) {
  const auto l = labels(600);
  for (int k : {1, 2, 3}) {
    auto s = shardIndices(l, 10, 5, {"classes", 0.5, k}, 9);
    ASSERT_TRUE(s) << s.status().message();
    for (const auto& shard : *s) {
      auto c = classCounts(l, shard, 10);
      EXPECT_EQ(std::count_if(c.begin(), c.end(), [](int64_t n) { return n > 0; }), k);
    }
    // 5 devices × k classes cover 5k of the 10 classes; the rest go unused.
    std::set<int64_t> used;
    for (const auto& shard : *s) {
      for (int64_t i : shard) used.insert(l[static_cast<size_t>(i)]);
    }
    EXPECT_EQ(used.size(), static_cast<size_t>(std::min(10, 5 * k)));
  }
}

TEST(Shards, WhatCannotBeMetIsNamed) {
  const auto l = labels(3);  // 30 samples
  auto s = shardIndices(l, 10, 4, {"iid", 0.5, 2}, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.status().message().find("field dataset.split"), std::string::npos)
      << s.status().message();
  s = shardIndices(labels(100), 10, 2, {"classes", 0.5, 11}, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.status().message().find("field dataset.classesPerDevice"), std::string::npos);
  s = shardIndices(labels(100), 10, 2, {"zipf", 0.5, 2}, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.status().message().find("unknown split \"zipf\""), std::string::npos);
  s = shardIndices({0, 1, 12}, 10, 1, {"iid", 0.5, 2}, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.status().message().find("label 12"), std::string::npos);
  s = shardIndices(labels(20), 10, 64, {"dirichlet", 0.01, 2}, 1);
  ASSERT_FALSE(s);
  EXPECT_NE(s.status().message().find("field dataset.alpha"), std::string::npos)
      << s.status().message();
}

TEST(Shards, GammaDrawsHaveTheRightMean) {
  // Mean of Gamma(a, 1) is a; for the Dirichlet's proportions that is what matters.
  for (double a : {0.1, 0.5, 1.0, 3.0}) {
    RandomStream rng(123);
    double sum = 0;
    constexpr int kDraws = 200000;
    for (int i = 0; i < kDraws; ++i) sum += gammaDraw(rng, a);
    EXPECT_NEAR(sum / kDraws, a, 0.02 * std::max(1.0, a)) << "shape " << a;
  }
}

}  // namespace
}  // namespace edgerig
