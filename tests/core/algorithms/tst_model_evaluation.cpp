// A decentralized device asked to evaluate a model it is sent (the devices' averaged model, what
// the gossip coordinators report as averaged_model_accuracy), against the real sgp worker in a
// real WorkerHost: it counts what an independent plain-torch model with those weights counts on
// the same test samples, its own model stays exactly as it was, and a model that does not fit is
// refused by name without touching it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <optional>

#include "core/algorithms/algo_message.h"
#include "core/data/dataset.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/model/tensor_codec.h"
#include "decentralized.pb.h"
#include "tests/support/gossip_device.h"
#include "tests/support/reference_models.h"

namespace edgerig {
namespace {

class ModelEvaluation : public testsupport::GossipDevice {
 protected:
  void SetUp() override {
    torch::set_num_threads(1);
    startWorker("sgp");
  }

  // Evaluate on test samples [offset, offset + samples), of `model` when given, else of the
  // device's own; the EvalDone it answers, or none (a run error instead).
  std::optional<decentralized::EvalDone> evaluate(int64_t id, int64_t offset, int64_t samples,
                                                  const ModelState* model = nullptr,
                                                  int extra_names = 0) {
    decentralized::Evaluate request;
    request.set_eval_id(id);
    request.set_offset(offset);
    request.set_samples(samples);
    if (model) {
      for (const auto& [name, t] : *model) request.add_model_names(name);
      for (int i = 0; i < extra_names; ++i) request.add_model_names("extra");
    }
    wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kControl, request);
    m.set_generation(1);
    if (model) {
      for (const auto& [name, t] : *model) appendTensor(m, t);
    }
    to_controller_.clear();
    deliver(std::move(m));
    for (const auto& env : to_controller_) {
      if (!env.has_algo()) continue;
      auto done = bodyAs<decentralized::EvalDone>(env.algo());
      if (done && done->eval_id() == id) return *done;
    }
    return std::nullopt;
  }

  // The mlp as the model zoo builds it from `seed`: a model the device does not hold.
  static ModelState mlpFromSeed(uint64_t seed) {
    auto chain = LayerChain::build("mlp", seed);
    EXPECT_TRUE(chain.isOk());
    StageModule module(*chain, 0, chain->numLayers());
    return stateOf(*module);
  }
};

TEST_F(ModelEvaluation, ASentModelCountsAsAPlainTorchModelWithItsWeightsAndTheOwnStays) {
  constexpr int64_t kOffset = 8, kSamples = 40;
  const auto own_before = evaluate(1, kOffset, kSamples);
  ASSERT_TRUE(own_before.has_value()) << lastError();
  ASSERT_EQ(own_before->samples(), kSamples);

  const ModelState other = mlpFromSeed(11);
  const auto sent = evaluate(2, kOffset, kSamples, &other);
  ASSERT_TRUE(sent.has_value()) << lastError();
  ASSERT_EQ(sent->samples(), kSamples);

  // The reference: plain torch::nn, the same weights, the worker's test samples (the run's
  // synthetic test split, from its seed).
  auto test = loadDataset("synthetic", "", Split::kTest, 0, start_.run().synthetic_size(),
                          start_.run().seed());
  ASSERT_TRUE(test.isOk()) << test.status().message();
  auto reference = testsupport::referenceModel("mlp");
  reference->load(other);
  torch::NoGradGuard no_grad;
  const auto images = test->images.narrow(0, kOffset, kSamples);
  const auto labels = test->labels.narrow(0, kOffset, kSamples);
  const auto output = reference->forward(images);
  const double loss_sum =
      torch::nn::functional::cross_entropy(
          output, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
          .item<double>();
  const int64_t correct = output.argmax(1).eq(labels).sum().item<int64_t>();
  EXPECT_EQ(sent->correct(), correct);
  EXPECT_NEAR(sent->loss_sum(), loss_sum, 1e-4 * loss_sum);
  std::printf("measured: own model loss %.4f, sent model loss %.4f (reference %.4f)\n",
              own_before->loss_sum(), sent->loss_sum(), loss_sum);
  EXPECT_GT(std::abs(sent->loss_sum() - own_before->loss_sum()), 1e-3)
      << "two models of different seeds evaluate apart";

  // The device's own model is back, bit for bit.
  const auto own_after = evaluate(3, kOffset, kSamples);
  ASSERT_TRUE(own_after.has_value()) << lastError();
  EXPECT_EQ(own_after->loss_sum(), own_before->loss_sum());
  EXPECT_EQ(own_after->correct(), own_before->correct());
}

TEST_F(ModelEvaluation, AModelThatDoesNotFitIsRefusedByNameAndChangesNothing) {
  const auto own_before = evaluate(1, 0, 32);
  ASSERT_TRUE(own_before.has_value()) << lastError();

  // A tensor of another shape.
  ModelState wrong = mlpFromSeed(11);
  const std::string name = wrong.front().first;
  wrong.front().second = torch::zeros({3, 3});
  EXPECT_FALSE(evaluate(2, 0, 32, &wrong).has_value());
  std::string e = lastError();
  EXPECT_NE(e.find("does not fit"), std::string::npos) << e;
  EXPECT_NE(e.find(name), std::string::npos) << e;

  // More names than tensors.
  const ModelState right = mlpFromSeed(11);
  EXPECT_FALSE(evaluate(3, 0, 32, &right, 1).has_value());
  e = lastError();
  EXPECT_NE(e.find("names " + std::to_string(right.size() + 1) + " tensors"), std::string::npos)
      << e;

  // A tensor missing (the last one's name and tensor left out).
  ModelState missing = right;
  const std::string last = missing.back().first;
  missing.pop_back();
  EXPECT_FALSE(evaluate(4, 0, 32, &missing).has_value());
  e = lastError();
  EXPECT_NE(e.find(last), std::string::npos) << e;

  const auto own_after = evaluate(5, 0, 32);
  ASSERT_TRUE(own_after.has_value()) << lastError();
  EXPECT_EQ(own_after->loss_sum(), own_before->loss_sum());
  EXPECT_EQ(own_after->correct(), own_before->correct());
}

}  // namespace
}  // namespace edgerig
