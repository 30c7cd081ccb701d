// StagePlan: cut validation, even plans, and how plans describe themselves.
#include <gtest/gtest.h>

#include "core/model/layer_chain.h"
#include "core/partition/stage_plan.h"

namespace edgerig {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(StagePlan, FromCutsBuildsBoundaries) {
  Result<StagePlan> p = StagePlan::fromCuts(6, {2, 5});
  ASSERT_TRUE(p.isOk()) << p.status().message();
  EXPECT_EQ(p->boundaries, (std::vector<int>{0, 2, 5, 6}));
  EXPECT_EQ(p->numStages(), 3);
  EXPECT_EQ(p->numLayers(), 6);
  EXPECT_EQ(p->first(1), 2);
  EXPECT_EQ(p->last(1), 5);
  EXPECT_EQ(p->cuts(), (std::vector<int>{2, 5}));

  Result<StagePlan> single = StagePlan::fromCuts(4, {});
  ASSERT_TRUE(single.isOk());
  EXPECT_EQ(single->boundaries, (std::vector<int>{0, 4}));
  EXPECT_TRUE(single->cuts().empty());
}

TEST(StagePlan, FromCutsRejectsBadCutsByName) {
  struct Case {
    std::vector<int> cuts;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{{{0}, "cut #0 at layer 0"},
                                         {{6}, "cut #0 at layer 6"},
                                         {{2, 9}, "cut #1 at layer 9"},
                                         {{3, 3}, "cut #1 at layer 3"},
                                         {{4, 2}, "strictly increasing"},
                                         {{-1}, "1..5"}}) {
    Result<StagePlan> p = StagePlan::fromCuts(6, c.cuts);
    ASSERT_FALSE(p.isOk()) << c.says;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(contains(p.status().message(), c.says)) << p.status().message();
  }
  EXPECT_FALSE(StagePlan::fromCuts(0, {}).isOk());
}

TEST(EvenPlan, ExtraLayersGoToTheFirstStages) {
  Result<StagePlan> p = evenPlan(11, 4);
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->boundaries, (std::vector<int>{0, 3, 6, 9, 11}));
  EXPECT_EQ(evenPlan(6, 2)->boundaries, (std::vector<int>{0, 3, 6}));
  EXPECT_EQ(evenPlan(6, 6)->boundaries, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(evenPlan(6, 1)->boundaries, (std::vector<int>{0, 6}));
  for (int layers = 1; layers <= 12; ++layers) {
    for (int stages = 1; stages <= layers; ++stages) {
      Result<StagePlan> q = evenPlan(layers, stages);
      ASSERT_TRUE(q.isOk());
      int smallest = layers, largest = 0;
      for (int s = 0; s < stages; ++s) {
        smallest = std::min(smallest, q->last(s) - q->first(s));
        largest = std::max(largest, q->last(s) - q->first(s));
      }
      EXPECT_GE(smallest, 1);
      EXPECT_LE(largest - smallest, 1);
      EXPECT_EQ(q->numLayers(), layers);
    }
  }
}

TEST(EvenPlan, MoreStagesThanLayersIsAnError) {
  Result<StagePlan> p = evenPlan(3, 4);
  ASSERT_FALSE(p.isOk());
  EXPECT_TRUE(contains(p.status().message(), "3 layers into 4 stages")) << p.status().message();
  EXPECT_FALSE(evenPlan(3, 0).isOk());
}

TEST(StagePlan, DescribeUsesLayerNames) {
  Result<LayerChain> chain = LayerChain::build("cnn", 1);
  ASSERT_TRUE(chain.isOk());
  EXPECT_EQ(StagePlan::fromCuts(6, {2})->describe(chain->infos()), "conv1–pool1 | conv2–fc2");
  EXPECT_EQ(StagePlan::fromCuts(6, {1, 5})->describe(chain->infos()), "conv1 | pool1–fc1 | fc2");
  EXPECT_EQ(StagePlan::fromCuts(6, {3})->describe({}), "0–2 | 3–5");
}

}  // namespace
}  // namespace edgerig
