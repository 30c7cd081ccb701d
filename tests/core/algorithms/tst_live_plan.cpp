// ftpipehd's live re-planning as plain functions: capacities from measured stage times, the
// re-plan decision against brute force over every plan (bandwidth terms included), and the
// layers each stage pulls in a migration against a layer-by-layer reference.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "core/algorithms/pipeline/ftpipehd/live_plan.h"

namespace edgerig {
namespace {

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

// The slowest pipeline step of plan p, written out from ALGORITHMS.md's recurrence: each stage's
// compute (its layers' reference time over its capacity) and each link's transfer (the
// activations of the layer before the cut forward, their gradients back) is a step of its own.
double referenceSlowestStep(const PlanInputs& in, const StagePlan& p) {
  double worst = 0;
  for (int s = 0; s < p.numStages(); ++s) {
    double t = 0;
    for (int l = p.first(s); l < p.last(s); ++l) t += in.layer_time_s[l];
    worst = std::max(worst, t / in.capacity[s]);
    if (s > 0 && in.bandwidth_bytes_per_s[s - 1] > 0) {
      worst = std::max(worst,
                       2.0 * in.activation_bytes[p.first(s) - 1] / in.bandwidth_bytes_per_s[s - 1]);
    }
  }
  return worst;
}

TEST(LivePlan, CapacityMakesTheCostModelPredictTheMeasuredStageTime) {
  // Layers of 1, 2, 3, 4 reference seconds; stages [0,2) [2,4); measured 6 s and 2 s.
  const std::vector<double> ref = {1, 2, 3, 4};
  const StagePlan plan = *StagePlan::fromCuts(4, {2});
  const auto c = capacitiesFromStageTimes(ref, plan, {6.0, 2.0});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_DOUBLE_EQ(c[0], 3.0 / 6.0);  // 3 reference seconds took 6: half the reference speed
  EXPECT_DOUBLE_EQ(c[1], 7.0 / 2.0);
  // Unmeasured: capacity 1.
  EXPECT_DOUBLE_EQ(capacitiesFromStageTimes(ref, plan, {0.0, 2.0})[0], 1.0);
}

TEST(LivePlan, AStageOfCheapLayersKeepsItsDevicesPreviousCapacity) {
  // Reference work 10, 10, 0.5 (a pool) over three stages; the pool's stage took 0.2 s, mostly
  // overhead: its capacity 2.5 would be a guess. Below 10 % of an even share (6.83) it keeps 0.2.
  const std::vector<double> ref = {10, 10, 0.5};
  const StagePlan plan = *StagePlan::fromCuts(3, {1, 2});
  const auto c = trustedCapacities(ref, plan, {10.0, 5.0, 0.2}, {1.0, 1.0, 0.2}, 0.1);
  EXPECT_EQ(c, (std::vector<double>{1.0, 2.0, 0.2}));
  // With no threshold every stage is measured.
  EXPECT_DOUBLE_EQ(trustedCapacities(ref, plan, {10.0, 5.0, 0.2}, {1.0, 1.0, 0.2}, 0.0)[2], 2.5);
}

TEST(LivePlan, StageTimeWindowAveragesSinceTheLastReset) {
  StageTimeWindow w;
  w.reset(2);
  w.add({1.0, 4.0});
  w.add({3.0, 2.0});
  EXPECT_EQ(w.iterations(), 2);
  EXPECT_EQ(w.mean(), (std::vector<double>{2.0, 3.0}));
  w.reset(2);
  EXPECT_EQ(w.iterations(), 0);
  w.add({5.0, 5.0});
  EXPECT_EQ(w.mean(), (std::vector<double>{5.0, 5.0}));
}

TEST(LivePlan, DecisionMatchesBruteForceWithLinks) {
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> time(0.001, 0.1), cap(0.1, 2.0), bw(1e6, 1e8),
      threshold(1.0, 1.6);
  std::uniform_int_distribution<int64_t> bytes(1000, 4'000'000);
  int replans = 0, kept = 0;
  for (int round = 0; round < 200; ++round) {
    const int layers = 3 + static_cast<int>(rng() % 6), stages = 2 + static_cast<int>(rng() % 3);
    if (stages > layers) continue;
    PlanInputs in;
    for (int i = 0; i < layers; ++i) {
      in.layer_time_s.push_back(time(rng));
      in.activation_bytes.push_back(bytes(rng));
    }
    for (int s = 0; s < stages; ++s) in.capacity.push_back(cap(rng));
    for (int s = 0; s + 1 < stages; ++s) in.bandwidth_bytes_per_s.push_back(bw(rng));
    const StagePlan current = *evenPlan(layers, stages);
    const double t = threshold(rng);
    double best = std::numeric_limits<double>::infinity();
    forEachPlan(layers, stages,
                [&](const StagePlan& p) { best = std::min(best, referenceSlowestStep(in, p)); });
    const double now = referenceSlowestStep(in, current);

    auto d = decideReplan(in, current, t);
    ASSERT_TRUE(d.isOk()) << d.status().message();
    EXPECT_NEAR(d->proposed_s, best, 1e-12) << "round " << round;
    EXPECT_NEAR(d->current_s, now, 1e-12);
    EXPECT_NEAR(d->gain, now / best, 1e-9);
    // Re-plan exactly when the best plan is another one and pays at least the threshold.
    const bool expected = now / best >= t && !(d->proposed == current);
    EXPECT_EQ(d->replan, expected) << "round " << round << " gain " << now / best << " vs " << t;
    (d->replan ? replans : kept) += 1;
  }
  // Both branches were exercised.
  EXPECT_GT(replans, 10);
  EXPECT_GT(kept, 10);
}

TEST(LivePlan, TenTimesSlowerFirstDeviceGivesItLessAndTheGainSaysHowMuch) {
  // Eleven equal layers; the first device became 10x slower than the second.
  PlanInputs in;
  in.layer_time_s.assign(11, 1.0);
  in.activation_bytes.assign(11, 0);
  in.capacity = {0.1, 1.0};
  in.bandwidth_bytes_per_s = {0.0};
  const StagePlan even = *evenPlan(11, 2);  // 6 | 5: 60 s on the slow device
  auto d = decideReplan(in, even, 1.2);
  ASSERT_TRUE(d.isOk());
  EXPECT_TRUE(d->replan);
  EXPECT_EQ(d->proposed.cuts(), std::vector<int>{1});  // 10 s | 10 s
  EXPECT_DOUBLE_EQ(d->gain, 6.0);
  // Below the threshold nothing moves.
  auto high = decideReplan(in, even, 7.0);
  ASSERT_TRUE(high.isOk());
  EXPECT_FALSE(high->replan);
}

TEST(LivePlan, AReturnToThePlanTheLastReplanLeftNeedsTheThresholdSquared) {
  // Four equal layers on two devices, the second 1.3x slower: 2 | 2 takes 2.6 s, 3 | 1 takes
  // 3 s, 2 | 2 is proposed over 3 | 1 at a gain of 3 / 2.6 = 1.15.
  PlanInputs in;
  in.layer_time_s.assign(4, 1.0);
  in.activation_bytes.assign(4, 0);
  in.capacity = {1.0, 1.0 / 1.3};
  const StagePlan current = *StagePlan::fromCuts(4, {3});
  const StagePlan back = *StagePlan::fromCuts(4, {2});
  const StagePlan other = *StagePlan::fromCuts(4, {1});
  auto fresh = decideReplan(in, current, 1.1);
  ASSERT_TRUE(fresh.isOk());
  EXPECT_EQ(fresh->proposed, back);
  EXPECT_NEAR(fresh->gain, 3.0 / 2.6, 1e-12);
  EXPECT_TRUE(fresh->replan) << fresh->reason;
  // The same proposal is a return when the last re-plan left `back`: 1.15 < 1.1² = 1.21.
  auto ret = decideReplan(in, current, 1.1, &back);
  ASSERT_TRUE(ret.isOk());
  EXPECT_FALSE(ret->replan);
  EXPECT_NE(ret->reason.find("1.21x"), std::string::npos) << ret->reason;
  EXPECT_NE(ret->reason.find("the last re-plan left"), std::string::npos) << ret->reason;
  // Another plan left before is no reason to hold back; a gain above the square is not either.
  EXPECT_TRUE(decideReplan(in, current, 1.1, &other)->replan);
  EXPECT_TRUE(decideReplan(in, current, 1.05, &back)->replan);  // 1.15 >= 1.1025
}

TEST(LivePlan, LayersGainedMatchALayerByLayerReference) {
  // By hand: 0..8, [0,3)[3,6)[6,9) -> [0,5)[5,7)[7,9).
  const StagePlan from = *StagePlan::fromCuts(9, {3, 6}), to = *StagePlan::fromCuts(9, {5, 7});
  EXPECT_EQ(layersGained(from, to, 0), (std::vector<LayerFetch>{{1, 3, 5}}));
  EXPECT_EQ(layersGained(from, to, 1), (std::vector<LayerFetch>{{2, 6, 7}}));
  EXPECT_TRUE(layersGained(from, to, 2).empty());
  // A stage whose new slice spans two old owners, neither of them itself.
  const StagePlan a = *StagePlan::fromCuts(6, {1, 2, 5}), b = *StagePlan::fromCuts(6, {1, 4, 5});
  EXPECT_EQ(layersGained(b, a, 2), (std::vector<LayerFetch>{{1, 2, 4}}));
  EXPECT_EQ(layersGained(a, b, 1), (std::vector<LayerFetch>{{2, 2, 4}}));

  // Every pair of plans of 7 layers over 3 stages: a layer is fetched iff the stage did not hold
  // it, from the stage that did, and each exactly once.
  std::vector<StagePlan> plans;
  forEachPlan(7, 3, [&](const StagePlan& p) { plans.push_back(p); });
  for (const auto& p : plans) {
    for (const auto& q : plans) {
      for (int s = 0; s < 3; ++s) {
        std::vector<int> owner_of(7, -1);
        for (const auto& f : layersGained(p, q, s)) {
          for (int l = f.first; l < f.last; ++l) {
            EXPECT_EQ(owner_of[l], -1) << "layer " << l << " fetched twice";
            owner_of[l] = f.owner_stage;
          }
        }
        for (int l = 0; l < 7; ++l) {
          const bool wanted = l >= q.first(s) && l < q.last(s);
          const bool held = l >= p.first(s) && l < p.last(s);
          int holder = 0;
          while (!(l >= p.first(holder) && l < p.last(holder))) ++holder;
          EXPECT_EQ(owner_of[l], wanted && !held ? holder : -1)
              << "layer " << l << " stage " << s << " " << p.describe({}) << " -> "
              << q.describe({});
        }
      }
    }
  }
}

}  // namespace
}  // namespace edgerig
