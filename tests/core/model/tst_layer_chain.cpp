// The model zoo: shapes, parameter counts, seeded initialisation, and the profiler.
#include <gtest/gtest.h>

#include <set>

#include "core/model/layer_chain.h"
#include "core/model/model_state.h"
#include "core/model/profiler.h"
#include "core/model/stage.h"

namespace edgerig {
namespace {

LayerChain buildOrDie(const std::string& model, uint64_t seed) {
  Result<LayerChain> chain = LayerChain::build(model, seed);
  EXPECT_TRUE(chain.isOk()) << chain.status().message();
  return std::move(chain).value();
}

struct Expected {
  std::string name;
  std::vector<int64_t> shape;
  int64_t parameters;
};

void expectInfos(const std::string& model, const std::vector<Expected>& expected) {
  SCOPED_TRACE(model);
  const LayerChain chain = buildOrDie(model, 1);
  ASSERT_EQ(chain.numLayers(), static_cast<int>(expected.size()));
  for (int i = 0; i < chain.numLayers(); ++i) {
    const LayerInfo& info = chain.info(i);
    EXPECT_EQ(info.name, expected[i].name);
    EXPECT_EQ(info.output_shape, expected[i].shape) << info.name;
    EXPECT_EQ(info.parameters, expected[i].parameters) << info.name;
    int64_t elements = 1;
    for (int64_t d : expected[i].shape) elements *= d;
    EXPECT_EQ(info.activation_bytes, elements * 4) << info.name;
    EXPECT_FALSE(info.description.empty());
  }
}

TEST(LayerChain, CatalogueAndDefault) {
  EXPECT_EQ(LayerChain::modelNames(), (std::vector<std::string>{"mlp", "lenet5", "cnn", "vgg"}));
  EXPECT_EQ(LayerChain::defaultModel(), "cnn");
}

TEST(LayerChain, UnknownModelListsTheKnownOnes) {
  Result<LayerChain> chain = LayerChain::build("resnet", 1);
  ASSERT_FALSE(chain.isOk());
  EXPECT_EQ(chain.status().code(), StatusCode::kNotFound);
  for (const char* name : {"resnet", "mlp", "lenet5", "cnn", "vgg"}) {
    EXPECT_NE(chain.status().message().find(name), std::string::npos) << chain.status().message();
  }
}

TEST(LayerChain, MlpInfos) {
  expectInfos("mlp", {{"fc1", {256}, 784 * 256 + 256},
                      {"fc2", {128}, 256 * 128 + 128},
                      {"fc3", {10}, 128 * 10 + 10}});
}

TEST(LayerChain, Lenet5Infos) {
  expectInfos("lenet5", {{"conv1", {6, 28, 28}, 6 * 25 + 6},
                         {"pool1", {6, 14, 14}, 0},
                         {"conv2", {16, 10, 10}, 16 * 6 * 25 + 16},
                         {"pool2", {16, 5, 5}, 0},
                         {"fc1", {120}, 400 * 120 + 120},
                         {"fc2", {84}, 120 * 84 + 84},
                         {"fc3", {10}, 84 * 10 + 10}});
}

TEST(LayerChain, CnnInfos) {
  expectInfos("cnn", {{"conv1", {32, 28, 28}, 32 * 9 + 32},
                      {"pool1", {32, 14, 14}, 0},
                      {"conv2", {64, 14, 14}, 64 * 32 * 9 + 64},
                      {"pool2", {64, 7, 7}, 0},
                      {"fc1", {128}, 3136 * 128 + 128},
                      {"fc2", {10}, 128 * 10 + 10}});
}

TEST(LayerChain, VggIsADeeperChainOfUniqueBlocks) {
  const LayerChain chain = buildOrDie("vgg", 1);
  EXPECT_GE(chain.numLayers(), 10);
  EXPECT_LE(chain.numLayers(), 12);
  std::set<std::string> names;
  int64_t total = 0;
  for (const LayerInfo& info : chain.infos()) {
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate layer " << info.name;
    total += info.parameters;
  }
  EXPECT_EQ(chain.infos().back().output_shape, (std::vector<int64_t>{kNumClasses}));
  EXPECT_EQ(total, chain.parameterCount());
  StageModule whole(chain, 0, chain.numLayers());
  int64_t counted = 0;
  for (const auto& p : whole->parameters()) counted += p.numel();
  EXPECT_EQ(counted, total);
}

TEST(LayerChain, EveryModelMapsImagesToLogits) {
  torch::NoGradGuard no_grad;
  for (const std::string& model : LayerChain::modelNames()) {
    const LayerChain chain = buildOrDie(model, 3);
    StageModule whole(chain, 0, chain.numLayers());
    torch::Tensor y = whole->forward(torch::zeros({5, kImageChannels, kImageSize, kImageSize}));
    EXPECT_EQ(y.sizes(), (c10::IntArrayRef{5, kNumClasses})) << model;
  }
}

TEST(LayerChain, SameSeedSameWeightsOtherSeedOtherWeights) {
  for (const std::string& model : LayerChain::modelNames()) {
    SCOPED_TRACE(model);
    const LayerChain a = buildOrDie(model, 42), b = buildOrDie(model, 42),
                     c = buildOrDie(model, 43);
    const ModelState sa = stateOf(*StageModule(a, 0, a.numLayers()));
    const ModelState sb = stateOf(*StageModule(b, 0, b.numLayers()));
    const ModelState sc = stateOf(*StageModule(c, 0, c.numLayers()));
    ASSERT_EQ(sa.size(), sb.size());
    ASSERT_EQ(sa.size(), sc.size());
    for (size_t i = 0; i < sa.size(); ++i) {
      EXPECT_EQ(sa[i].first, sb[i].first);
      EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
      // vgg's He-initialised biases are zero whatever the seed.
      if (sa[i].second.count_nonzero().item<int64_t>() > 0) {
        EXPECT_FALSE(torch::equal(sa[i].second, sc[i].second)) << sa[i].first;
      }
    }
  }
}

TEST(LayerChain, InitialisationFollowsTorchDefaultBounds) {
  const LayerChain chain = buildOrDie("cnn", 5);
  auto weight = chain.layer(4)->named_parameters()["1.weight"];  // fc1: Linear 3136→128
  const double bound = 1.0 / std::sqrt(3136.0);
  EXPECT_LE(weight.abs().max().item<double>(), bound);
  EXPECT_GT(weight.abs().max().item<double>(), 0.9 * bound);
  EXPECT_NEAR(weight.mean().item<double>(), 0.0, 0.05 * bound);
}

TEST(LayerChain, WeightsDoNotDependOnTheGlobalTorchGenerator) {
  torch::manual_seed(1);
  const LayerChain a = buildOrDie("lenet5", 4);
  torch::manual_seed(999);
  torch::rand({100});
  const LayerChain b = buildOrDie("lenet5", 4);
  const ModelState sa = stateOf(*StageModule(a, 0, a.numLayers()));
  const ModelState sb = stateOf(*StageModule(b, 0, b.numLayers()));
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_TRUE(torch::equal(sa[i].second, sb[i].second)) << sa[i].first;
  }
}

TEST(LayerChain, MakeStageRejectsBadSlices) {
  const LayerChain chain = buildOrDie("cnn", 1);
  for (auto [first, last] : std::vector<std::pair<int, int>>{{-1, 2}, {2, 2}, {3, 1}, {0, 7}}) {
    Result<StageModule> stage = makeStage(chain, first, last);
    ASSERT_FALSE(stage.isOk());
    std::string slice = "[";
    slice += std::to_string(first);
    slice += ", ";
    slice += std::to_string(last);
    slice += ")";
    EXPECT_NE(stage.status().message().find(slice), std::string::npos) << stage.status().message();
  }
  EXPECT_TRUE(makeStage(chain, 2, 6).isOk());
}

TEST(Profiler, OneTimePerLayerAndTheChainUntouched) {
  const LayerChain chain = buildOrDie("lenet5", 1);
  const ModelState before = stateOf(*StageModule(chain, 0, chain.numLayers()));
  const std::vector<double> times = profileLayers(chain, 16, 3, 9);
  ASSERT_EQ(times.size(), static_cast<size_t>(chain.numLayers()));
  for (double t : times) {
    EXPECT_GT(t, 0.0);
    EXPECT_LT(t, 1.0);
  }
  StageModule whole(chain, 0, chain.numLayers());
  const ModelState after = stateOf(*whole);
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_TRUE(torch::equal(before[i].second, after[i].second)) << before[i].first;
  }
  for (const auto& p : whole->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Profiler, ConvolutionsCostMoreThanTheLastLinearLayer) {
  const LayerChain chain = buildOrDie("cnn", 1);
  const std::vector<double> times = profileLayers(chain, 32, 5, 1);
  ASSERT_EQ(times.size(), 6u);
  // conv2 (32→64 on 14×14, ~3.6 MFLOP-pairs a sample) against fc2 (1280 weights).
  EXPECT_GT(times[2], 5 * times[5]);
}

}  // namespace
}  // namespace edgerig
