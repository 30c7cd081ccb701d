// Cutting a chain into stages changes nothing: a pipeline of stages, each built in its own
// "process" from the same seed, computes the same outputs and gradients as the whole model.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <map>

#include "core/model/layer_chain.h"
#include "core/model/model_state.h"
#include "core/model/stage.h"

namespace edgerig {
namespace {

constexpr uint64_t kSeed = 2024;
constexpr int64_t kBatch = 6;

struct Pass {
  torch::Tensor logits;
  std::map<std::string, torch::Tensor> grads;
};

std::pair<torch::Tensor, torch::Tensor> batch() {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  return {torch::randn({kBatch, kImageChannels, kImageSize, kImageSize}, gen),
          torch::randint(kNumClasses, {kBatch}, gen)};
}

// Trains nothing: one forward and backward through stages [b0,b1), [b1,b2), ... as separate
// modules, with activations and gradients handed across each cut as plain tensors.
Pass pipelinePass(const std::string& model, const std::vector<int>& boundaries) {
  Result<LayerChain> chain = LayerChain::build(model, kSeed);
  EXPECT_TRUE(chain.isOk());
  const auto [x, y] = batch();
  std::vector<StageModule> stages;
  std::vector<torch::Tensor> inputs, outputs;
  torch::Tensor a = x;
  for (size_t s = 0; s + 1 < boundaries.size(); ++s) {
    Result<StageModule> stage = makeStage(*chain, boundaries[s], boundaries[s + 1]);
    EXPECT_TRUE(stage.isOk()) << stage.status().message();
    stages.push_back(*stage);
    torch::Tensor in = s == 0 ? a : a.detach().requires_grad_(true);
    inputs.push_back(in);
    a = stages.back()->forward(in);
    outputs.push_back(a);
  }
  torch::Tensor loss = torch::nn::functional::cross_entropy(a, y);
  loss.backward();
  for (size_t s = stages.size() - 1; s > 0; --s) {
    // The gradient stage s hands back to stage s-1.
    outputs[s - 1].backward(inputs[s].grad());
  }
  Pass pass{a.detach(), {}};
  for (const auto& stage : stages) {
    for (const auto& p : stage->named_parameters()) pass.grads[p.key()] = p.value().grad().clone();
  }
  return pass;
}

void expectSame(const Pass& whole, const Pass& piped) {
  EXPECT_TRUE(torch::allclose(whole.logits, piped.logits, 1e-5, 1e-6));
  ASSERT_EQ(whole.grads.size(), piped.grads.size());
  for (const auto& [name, grad] : whole.grads) {
    auto it = piped.grads.find(name);
    ASSERT_NE(it, piped.grads.end()) << "stage parameter names differ from the model's: " << name;
    EXPECT_TRUE(torch::allclose(grad, it->second, 1e-4, 1e-6)) << name;
  }
}

TEST(Stage, EveryCutOfEveryModelMatchesTheWholeModel) {
  for (const std::string& model : LayerChain::modelNames()) {
    Result<LayerChain> chain = LayerChain::build(model, kSeed);
    ASSERT_TRUE(chain.isOk());
    const int L = chain->numLayers();
    const Pass whole = pipelinePass(model, {0, L});
    for (int k = 1; k < L; ++k) {
      SCOPED_TRACE(model + " cut at " + std::to_string(k));
      expectSame(whole, pipelinePass(model, {0, k, L}));
    }
    SCOPED_TRACE(model + " one layer per stage");
    std::vector<int> each(static_cast<size_t>(L) + 1);
    for (int i = 0; i <= L; ++i) each[static_cast<size_t>(i)] = i;
    expectSame(whole, pipelinePass(model, each));
  }
}

TEST(Stage, NamesMatchTheWholeModelAndWeightsAreShared) {
  Result<LayerChain> chain = LayerChain::build("cnn", kSeed);
  ASSERT_TRUE(chain.isOk());
  StageModule tail(*chain, 2, 6);
  EXPECT_EQ(tail->first(), 2);
  EXPECT_EQ(tail->last(), 6);
  std::vector<std::string> names;
  for (const auto& p : tail->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"conv2.0.weight", "conv2.0.bias", "fc1.1.weight",
                                             "fc1.1.bias", "fc2.0.weight", "fc2.0.bias"}));
  // A stage is a view of the chain's blocks, not a copy.
  torch::NoGradGuard no_grad;
  tail->named_parameters()["fc2.0.bias"].fill_(3.0f);
  StageModule whole(*chain, 0, 6);
  EXPECT_TRUE(torch::equal(whole->named_parameters()["fc2.0.bias"], torch::full({10}, 3.0f)));
}

}  // namespace
}  // namespace edgerig
