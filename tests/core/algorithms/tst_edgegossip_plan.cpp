// edgegossip's decisions as functions: local batches in proportion to the measured speeds that
// sum exactly to the global batch (each at least 1, within a cap), equal speeds giving equal
// batches; the exchange period doubling while accuracy rises and halving when it stalls; and
// the batches of any size drawn from a shard, which with a constant size are exactly dpsgd's.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

#include "core/algorithms/decentralized/common/model_replica.h"
#include "core/algorithms/decentralized/edgegossip/edgegossip_plan.h"
#include "core/algorithms/decentralized/edgegossip/edgegossip_worker.h"

namespace edgerig {
namespace {

int64_t sum(const std::vector<int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), int64_t{0});
}

TEST(EdgeGossipPlan, LocalBatchesAreProportionalToSpeedAndSumToTheGlobalBatch) {
  // Slowdowns [1, 1, 2, 4]: speeds in proportion 4 : 4 : 2 : 1 of 11; 128 × 4/11 = 46.5…
  auto b = splitBatch({400, 400, 200, 100}, 128);
  ASSERT_TRUE(b.isOk()) << b.status().message();
  EXPECT_EQ(sum(*b), 128);
  EXPECT_EQ(*b, (std::vector<int64_t>{47, 46, 23, 12}));
  // Each within one sample of its ideal share, for many speed mixes.
  for (int64_t global : {7, 64, 100, 1000}) {
    const std::vector<double> speeds = {3.3, 1.0, 7.1, 0.4, 2.2};
    auto split = splitBatch(speeds, global);
    ASSERT_TRUE(split.isOk());
    EXPECT_EQ(sum(*split), global);
    for (size_t i = 0; i < speeds.size(); ++i) {
      const double ideal = static_cast<double>(global) * speeds[i] / 14.0;
      EXPECT_GE((*split)[i], 1);
      if (global >= 64) {  // no device below one sample: nothing moved by the bounds
        EXPECT_LE(std::abs((*split)[i] - ideal), 1.0) << global << " device " << i;
      }
    }
  }
}

TEST(EdgeGossipPlan, EqualSpeedsGiveEqualBatches) {
  auto b = splitBatch({250, 250, 250, 250}, 64);
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(*b, (std::vector<int64_t>{16, 16, 16, 16}));
  EXPECT_FALSE(worthRebalancing({16, 16, 16, 16}, {17, 15, 16, 16}, 0.1));
  EXPECT_TRUE(worthRebalancing({16, 16, 16, 16}, {20, 12, 16, 16}, 0.1));
}

TEST(EdgeGossipPlan, BoundsHoldAndBadInputIsNamed) {
  // A device 1000× slower still gets one sample; the others give it up.
  auto b = splitBatch({1000, 1000, 1}, 10);
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(sum(*b), 10);
  EXPECT_EQ((*b)[2], 1);
  // A cap (the shard) moves the excess to the fastest device with room.
  auto capped = splitBatch({100, 1, 1}, 30, 12);
  ASSERT_TRUE(capped.isOk());
  EXPECT_EQ(sum(*capped), 30);
  for (int64_t x : *capped) EXPECT_LE(x, 12);
  auto few = splitBatch({1, 1, 1}, 2);
  ASSERT_FALSE(few.isOk());
  EXPECT_NE(few.status().message().find("one sample each"), std::string::npos);
  auto small = splitBatch({1, 1}, 30, 10);
  ASSERT_FALSE(small.isOk());
  EXPECT_NE(small.status().message().find("shards of 10"), std::string::npos);
  auto zero = splitBatch({1, 0}, 30);
  ASSERT_FALSE(zero.isOk());
  EXPECT_NE(zero.status().message().find("speed"), std::string::npos);
}

TEST(EdgeGossipPlan, RoundTimesAreFittedAndEqualised) {
  // Rounds of 2 ms + 0.5 ms a sample, seen at two batch sizes: the fit finds both.
  const TimeModel m = fitTime({{10, 0.007}, {10, 0.007}, {30, 0.017}, {30, 0.017}});
  EXPECT_NEAR(m.a, 0.002, 1e-9);
  EXPECT_NEAR(m.c, 0.0005, 1e-9);
  // One batch size seen: time in proportion to it, by the median round (a slow one moves
  // nothing).
  const TimeModel p = fitTime({{20, 0.010}, {20, 0.090}, {20, 0.012}});
  EXPECT_EQ(p.a, 0);
  EXPECT_NEAR(p.c, 0.012 / 20, 1e-12);
  // Two noisy levels that fit an almost flat line (50 ms at 24, 52 ms at 50): the slope is held
  // to a quarter of the average cost at the largest batch, so no batch is predicted at more
  // than 4× the samples/s measured there.
  const TimeModel flat = fitTime({{24, 0.050}, {24, 0.050}, {50, 0.052}, {50, 0.052}});
  EXPECT_NEAR(flat.c, 0.25 * 0.052 / 50, 1e-12);
  for (double b : {50.0, 140.0, 384.0, 10000.0}) {
    EXPECT_LE(b / flat.at(b), 4 * 50 / 0.052 + 1e-6) << "batch " << b;
  }
  EXPECT_GE(flat.a, 0);
  // Without overhead the equal-time batches are in proportion to speed 1/c.
  const auto plain = equalTimeBatches({{0, 1}, {0, 1}, {0, 2}, {0, 4}}, 110);
  EXPECT_NEAR(plain[0], 40, 1e-9);
  EXPECT_NEAR(plain[2], 20, 1e-9);
  EXPECT_NEAR(plain[3], 10, 1e-9);
  // With overhead they give every device the same predicted time, and sum to the global batch.
  const std::vector<TimeModel> models = {{0.002, 0.0005}, {0.008, 0.002}, {0.004, 0.001}};
  const auto b = equalTimeBatches(models, 90);
  EXPECT_NEAR(b[0] + b[1] + b[2], 90, 1e-9);
  EXPECT_NEAR(models[0].at(b[0]), models[1].at(b[1]), 1e-12);
  EXPECT_NEAR(models[0].at(b[0]), models[2].at(b[2]), 1e-12);
}

TEST(EdgeGossipPlan, ThePeriodDoublesWhileAccuracyRisesAndHalvesOnAStall) {
  ExchangePeriod p(1, 8, 0.01);
  EXPECT_EQ(p.period(), 1);
  EXPECT_EQ(p.update(0.50), 2);
  EXPECT_EQ(p.update(0.60), 4);
  EXPECT_EQ(p.update(0.70), 8);
  EXPECT_EQ(p.update(0.80), 8) << "capped";
  EXPECT_EQ(p.update(0.805), 4) << "a rise under the threshold is a stall";
  EXPECT_EQ(p.update(0.70), 2) << "a fall too";
  EXPECT_EQ(p.update(0.70), 1);
  EXPECT_EQ(p.update(0.70), 1) << "floored";
  // Rounds: the first exchanges, then every period() rounds.
  ExchangePeriod q(4, 4, 0.0);
  std::vector<int64_t> exchanged;
  for (int64_t it = 0; it < 10; ++it) {
    if (q.exchangesAt(it)) exchanged.push_back(it);
  }
  EXPECT_EQ(exchanged, (std::vector<int64_t>{0, 4, 8}));
}

TEST(EdgeGossipPlan, AShardCursorOfConstantSizeGivesDpsgdsBatches) {
  std::vector<int64_t> shard(103);
  for (size_t i = 0; i < shard.size(); ++i) shard[i] = static_cast<int64_t>(1000 + 3 * i);
  ShardCursor cursor(shard, 77, 2);
  for (int64_t it = 0; it < 30; ++it) {  // three local epochs of 6 batches of 16 (7 dropped)
    EXPECT_EQ(cursor.next(16), ModelReplica::localBatch(shard, 16, 77, 2, it)) << it;
  }
  // Sizes that vary stay inside the shard, without repeats within an epoch.
  ShardCursor varying(shard, 77, 2);
  std::set<int64_t> seen;
  for (int64_t size : {10, 40, 50}) {
    for (int64_t x : varying.next(size)) EXPECT_TRUE(seen.insert(x).second) << x;
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(varying.next(500).size(), shard.size()) << "clipped to the shard";
}

TEST(EdgeGossipPlan, ASlowdownIsToldFromNoiseByTheMedianOfTheFirstRounds) {
  SpeedWatch watch(0.5, 3);
  // The first three rounds set the reference; one of them stalled (a busy machine) moves nothing.
  EXPECT_FALSE(watch.observe(0, 1.0));
  EXPECT_FALSE(watch.observe(0, 10.0));
  EXPECT_FALSE(watch.observe(0, 1.1));
  EXPECT_DOUBLE_EQ(watch.reference(0), 1.1);
  // A slow round or two is noise: the count starts again when a round is back to normal.
  EXPECT_FALSE(watch.observe(0, 3.0));
  EXPECT_FALSE(watch.observe(0, 3.0));
  EXPECT_FALSE(watch.observe(0, 1.0));
  // 4× three rounds running is a change.
  EXPECT_FALSE(watch.observe(0, 4.0));
  EXPECT_FALSE(watch.observe(0, 4.0));
  EXPECT_TRUE(watch.observe(0, 4.0));
  // So is a device that became faster.
  EXPECT_FALSE(watch.observe(1, 2.0));
  EXPECT_FALSE(watch.observe(1, 2.0));
  EXPECT_FALSE(watch.observe(1, 2.0));
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(watch.observe(1, 0.5));
  EXPECT_TRUE(watch.observe(1, 0.5));
}

TEST(EdgeGossipPlan, ARestartedDeviceTakesItsNewSpeedAsTheReference) {
  SpeedWatch watch(0.5, 3);
  for (int i = 0; i < 3; ++i) watch.observe(0, 1.0);
  for (int i = 0; i < 3; ++i) watch.observe(1, 1.0);
  watch.restart(0);  // its batch changed
  EXPECT_EQ(watch.reference(0), 0);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(watch.observe(0, 2.0));
  EXPECT_DOUBLE_EQ(watch.reference(0), 2.0);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(watch.observe(0, 2.1)) << "its new normal";
  // Device 1 was not restarted: it keeps its reference, and a change right after shows.
  EXPECT_DOUBLE_EQ(watch.reference(1), 1.0);
  EXPECT_FALSE(watch.observe(1, 4.0));
  EXPECT_FALSE(watch.observe(1, 4.0));
  EXPECT_TRUE(watch.observe(1, 4.0));
  watch.keepOnly({0});
  EXPECT_EQ(watch.reference(1), 0) << "a device gone is forgotten";
  EXPECT_DOUBLE_EQ(watch.reference(0), 2.0);
}

// The rule against divergence: each device's gradient weighed by its batch over the mean batch.
// Averaged uniformly (what the exchange does to models that were equal before the step), the
// devices' updates are then one step on the whole global batch, every sample weighing the same,
// however unequal the batches; the reference is the mean loss over all the samples at once.
TEST(EdgeGossipPlan, GradientsWeighedByBatchAverageToTheGlobalBatchsGradient) {
  torch::manual_seed(5);
  const int64_t kGlobal = 16;
  const std::vector<int64_t> batches = {1, 2, 13};  // a tiny batch, as a loaded machine gives
  const double mean = static_cast<double>(kGlobal) / static_cast<double>(batches.size());
  const torch::Tensor x = torch::randn({kGlobal, 5});
  const torch::Tensor y = torch::randint(0, 3, {kGlobal});
  torch::nn::Linear model(5, 3);
  auto gradientsOf = [&](int64_t from, int64_t n, double weight) {
    model->zero_grad();
    torch::nn::functional::cross_entropy(model->forward(x.narrow(0, from, n)), y.narrow(0, from, n))
        .backward();
    weighGradients(model->parameters(), weight);
    std::vector<torch::Tensor> out;
    for (const auto& p : model->parameters()) out.push_back(p.grad().clone());
    return out;
  };
  std::vector<torch::Tensor> weighed, unweighed;
  int64_t from = 0;
  for (int64_t b : batches) {
    auto g = gradientsOf(from, b, static_cast<double>(b) / mean);
    auto u = gradientsOf(from, b, 1.0);
    for (size_t t = 0; t < g.size(); ++t) {
      const double share = 1.0 / static_cast<double>(batches.size());
      if (weighed.size() <= t) weighed.push_back(torch::zeros_like(g[t]));
      if (unweighed.size() <= t) unweighed.push_back(torch::zeros_like(u[t]));
      weighed[t] += share * g[t];
      unweighed[t] += share * u[t];
    }
    from += b;
  }
  const auto global = gradientsOf(0, kGlobal, 1.0);
  for (size_t t = 0; t < global.size(); ++t) {
    EXPECT_TRUE(torch::allclose(weighed[t], global[t], 1e-5, 1e-6)) << "parameter " << t;
  }
  // Each device's mean loss alone (the rule before) gives the 1-sample batch a third of the step.
  EXPECT_FALSE(torch::allclose(unweighed[0], global[0], 1e-3, 1e-4));
  // A weight of 1 (equal batches: dpsgd) changes no bit; a parameter without a gradient is left.
  const auto before = gradientsOf(0, 4, 1.0);
  weighGradients(model->parameters(), 1.0);
  EXPECT_TRUE(torch::equal(model->parameters()[0].grad(), before[0]));
  torch::Tensor bare = torch::ones({2}, torch::requires_grad());
  weighGradients({bare}, 3.0);
  EXPECT_FALSE(bare.grad().defined());
}

}  // namespace
}  // namespace edgerig
