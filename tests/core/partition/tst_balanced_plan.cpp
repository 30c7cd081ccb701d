// The balanced (dynamic programming) plan against brute force, and its cost model.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "core/partition/stage_plan.h"

namespace edgerig {
namespace {

// What the dynamic program minimises: every stage's compute and every link's transfer is a
// pipeline step of its own, and the slowest step sets the pace.
double dpObjective(const PlanInputs& in, const StagePlan& p) {
  double worst = 0.0;
  for (int s = 0; s < p.numStages(); ++s) {
    double compute = 0.0;
    for (int i = p.first(s); i < p.last(s); ++i) compute += in.layer_time_s[i];
    worst = std::max(worst, compute / in.capacity[s]);
    if (s > 0 && !in.bandwidth_bytes_per_s.empty() && in.bandwidth_bytes_per_s[s - 1] > 0) {
      worst = std::max(worst,
                       2.0 * in.activation_bytes[p.first(s) - 1] / in.bandwidth_bytes_per_s[s - 1]);
    }
  }
  return worst;
}

// Every way to choose K-1 cuts out of 1..L-1.
void forEachPlan(int layers, int stages, const std::function<void(const StagePlan&)>& visit) {
  std::vector<int> cuts;
  std::function<void(int)> choose = [&](int next) {
    if (static_cast<int>(cuts.size()) == stages - 1) {
      visit(*StagePlan::fromCuts(layers, cuts));
      return;
    }
    for (int c = next; c < layers; ++c) {
      cuts.push_back(c);
      choose(c + 1);
      cuts.pop_back();
    }
  };
  choose(1);
}

PlanInputs randomInputs(std::mt19937_64& rng, int layers, int stages, bool links) {
  std::uniform_real_distribution<double> time(0.001, 0.1), cap(0.1, 2.0), bw(1e6, 1e8);
  std::uniform_int_distribution<int64_t> bytes(1000, 4'000'000);
  PlanInputs in;
  for (int i = 0; i < layers; ++i) {
    in.layer_time_s.push_back(time(rng));
    in.activation_bytes.push_back(bytes(rng));
  }
  for (int s = 0; s < stages; ++s) in.capacity.push_back(cap(rng));
  if (links) {
    for (int s = 0; s + 1 < stages; ++s) in.bandwidth_bytes_per_s.push_back(s == 1 ? 0.0 : bw(rng));
  }
  return in;
}

TEST(BalancedPlan, EqualsBruteForceOnRandomCases) {
  std::mt19937_64 rng(12345);
  int cases = 0;
  for (int round = 0; round < 60; ++round) {
    const int layers = 2 + static_cast<int>(rng() % 9);                    // 2..10
    const int stages = 1 + static_cast<int>(rng() % std::min(layers, 4));  // 1..4
    const bool links = round % 2 == 1;
    const PlanInputs in = randomInputs(rng, layers, stages, links);
    Result<StagePlan> plan = balancedPlan(in);
    ASSERT_TRUE(plan.isOk()) << plan.status().message();
    ASSERT_EQ(plan->numStages(), stages);
    ASSERT_EQ(plan->numLayers(), layers);
    double best = std::numeric_limits<double>::infinity(), best_bottleneck = best;
    forEachPlan(layers, stages, [&](const StagePlan& p) {
      best = std::min(best, dpObjective(in, p));
      best_bottleneck = std::min(best_bottleneck, bottleneckTime(in, p));
    });
    EXPECT_NEAR(dpObjective(in, *plan), best, 1e-12) << "round " << round;
    if (!links) {  // without links the two cost models agree
      EXPECT_NEAR(bottleneckTime(in, *plan), best_bottleneck, 1e-12) << "round " << round;
    }
    ++cases;
  }
  EXPECT_EQ(cases, 60);
}

TEST(BalancedPlan, TenTimesFasterDeviceGetsTenEleventhsOfAUniformChain) {
  PlanInputs in;
  in.layer_time_s.assign(22, 0.01);
  in.activation_bytes.assign(22, 1000);
  in.capacity = {1.0, 0.1};
  Result<StagePlan> plan = balancedPlan(in);
  ASSERT_TRUE(plan.isOk());
  EXPECT_EQ(plan->boundaries, (std::vector<int>{0, 20, 22}));
  EXPECT_NEAR(bottleneckTime(in, *plan), 0.2, 1e-9);
  // The even plan is 5.5× slower: 11 layers on the slow device.
  EXPECT_NEAR(bottleneckTime(in, *evenPlan(22, 2)) / bottleneckTime(in, *plan), 5.5, 1e-9);

  in.capacity = {0.1, 1.0};  // and the other way round
  EXPECT_EQ(balancedPlan(in)->boundaries, (std::vector<int>{0, 2, 22}));
}

// The most expensive stage when every device counts the same (brute force, independent of the
// dynamic program).
double heaviestStage(const std::vector<double>& t, const StagePlan& p) {
  double worst = 0.0;
  for (int s = 0; s < p.numStages(); ++s) {
    double sum = 0.0;
    for (int i = p.first(s); i < p.last(s); ++i) sum += t[i];
    worst = std::max(worst, sum);
  }
  return worst;
}

TEST(EvenCostPlan, SplitsTheProfiledCostAsEvenlyAsBruteForce) {
  std::mt19937_64 rng(777);
  std::uniform_real_distribution<double> time(0.0, 0.1);
  for (int round = 0; round < 60; ++round) {
    const int layers = 1 + static_cast<int>(rng() % 10);                   // 1..10
    const int stages = 1 + static_cast<int>(rng() % std::min(layers, 4));  // 1..4
    std::vector<double> t;
    for (int i = 0; i < layers; ++i) t.push_back(round % 3 == 0 ? 0.01 : time(rng));
    Result<StagePlan> plan = evenCostPlan(t, stages);
    ASSERT_TRUE(plan.isOk()) << plan.status().message();
    ASSERT_EQ(plan->numStages(), stages);
    ASSERT_EQ(plan->numLayers(), layers);
    double best = std::numeric_limits<double>::infinity();
    forEachPlan(layers, stages,
                [&](const StagePlan& p) { best = std::min(best, heaviestStage(t, p)); });
    EXPECT_NEAR(heaviestStage(t, *plan), best, 1e-12) << "round " << round;
    if (round % 3 == 0) {  // equal layers: as even as the split by count
      EXPECT_NEAR(heaviestStage(t, *plan), heaviestStage(t, *evenPlan(layers, stages)), 1e-12);
    }
  }
}

TEST(EvenCostPlan, FollowsTheCostNotTheCountAndIgnoresDeviceSpeed) {
  // vgg's shape: expensive early convolutions, cheap classifier layers.
  const std::vector<double> t = {0.4, 0.4, 0.05, 0.1, 0.02, 0.01, 0.01, 0.01};
  Result<StagePlan> plan = evenCostPlan(t, 2);
  ASSERT_TRUE(plan.isOk());
  EXPECT_EQ(plan->cuts(), (std::vector<int>{1}));            // 0.4 | 0.6
  EXPECT_EQ(evenPlan(8, 2)->cuts(), (std::vector<int>{4}));  // 0.95 | 0.05 by count
  // The 5.5x of FTPipeHD's [1, 10] pair is against this plan: on a uniform chain both halves
  // cost the same, the slow device takes 10x its half; the balanced plan gives it 1/11.
  PlanInputs in;
  in.layer_time_s.assign(22, 0.01);
  in.activation_bytes.assign(22, 1000);
  in.capacity = {1.0, 0.1};
  EXPECT_NEAR(
      bottleneckTime(in, *evenCostPlan(in.layer_time_s, 2)) / bottleneckTime(in, *balancedPlan(in)),
      5.5, 1e-9);
}

TEST(EvenCostPlan, BadInputsAreErrors) {
  EXPECT_FALSE(evenCostPlan({1, 1}, 0).isOk());
  Result<StagePlan> too_many = evenCostPlan({1, 1}, 3);
  ASSERT_FALSE(too_many.isOk());
  EXPECT_NE(too_many.status().message().find("2 layers over 3"), std::string::npos)
      << too_many.status().message();
  Result<StagePlan> negative = evenCostPlan({1, -1, 1}, 2);
  ASSERT_FALSE(negative.isOk());
  EXPECT_NE(negative.status().message().find("layer 1"), std::string::npos)
      << negative.status().message();
  EXPECT_FALSE(evenCostPlan({}, 1).isOk());
}

TEST(BalancedPlan, ASlowLinkMovesTheCutToASmallActivation) {
  PlanInputs in;
  in.layer_time_s.assign(6, 1.0);
  in.activation_bytes = {1000, 1000, 10, 1000, 1000, 1000};
  in.capacity = {1.0, 1.0};
  in.bandwidth_bytes_per_s = {100.0};  // 2·1000/100 = 20 s, 2·10/100 = 0.2 s
  Result<StagePlan> plan = balancedPlan(in);
  ASSERT_TRUE(plan.isOk());
  EXPECT_EQ(plan->cuts(), (std::vector<int>{3}));
  EXPECT_NEAR(stageTime(in, *plan, 0), 3.0, 1e-12);
  EXPECT_NEAR(stageTime(in, *plan, 1), 3.0 + 0.2, 1e-12);
  EXPECT_NEAR(bottleneckTime(in, *plan), 3.2, 1e-12);
}

TEST(BalancedPlan, BadInputsAreErrors) {
  PlanInputs good;
  good.layer_time_s = {1, 1, 1};
  good.activation_bytes = {1, 1, 1};
  good.capacity = {1, 1};
  ASSERT_TRUE(balancedPlan(good).isOk());

  PlanInputs too_many = good;
  too_many.capacity = {1, 1, 1, 1};
  EXPECT_FALSE(balancedPlan(too_many).isOk());
  PlanInputs zero_capacity = good;
  zero_capacity.capacity = {1, 0};
  Result<StagePlan> r = balancedPlan(zero_capacity);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("device 1"), std::string::npos) << r.status().message();
  PlanInputs wrong_links = good;
  wrong_links.bandwidth_bytes_per_s = {1, 1};
  EXPECT_FALSE(balancedPlan(wrong_links).isOk());
  PlanInputs wrong_acts = good;
  wrong_acts.activation_bytes = {1};
  EXPECT_FALSE(balancedPlan(wrong_acts).isOk());
  EXPECT_FALSE(balancedPlan(PlanInputs{}).isOk());
}

}  // namespace
}  // namespace edgerig
