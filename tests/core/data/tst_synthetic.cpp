// The synthetic dataset (deterministic, learnable), loadDataset by name, and gatherBatch.
#include <gtest/gtest.h>

#include "core/data/dataset.h"
#include "core/data/sampler.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"

namespace edgerig {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Synthetic, ShapesAndLabels) {
  const Dataset d = makeSynthetic(500, Split::kTrain, 1);
  EXPECT_EQ(d.name, "synthetic/train");
  EXPECT_EQ(d.size(), 500);
  EXPECT_EQ(d.images.sizes(), (c10::IntArrayRef{500, 1, 28, 28}));
  EXPECT_EQ(d.images.scalar_type(), torch::kFloat32);
  EXPECT_EQ(d.labels.scalar_type(), torch::kInt64);
  const torch::Tensor counts = torch::bincount(d.labels, {}, kNumClasses);
  ASSERT_EQ(counts.size(0), kNumClasses);
  EXPECT_GT(counts.min().item<int64_t>(), 25);  // every class present, roughly balanced
  EXPECT_LT(counts.max().item<int64_t>(), 80);
  EXPECT_TRUE(torch::isfinite(d.images).all().item<bool>());
}

TEST(Synthetic, DeterministicFromTheSeed) {
  const Dataset a = makeSynthetic(64, Split::kTrain, 5), b = makeSynthetic(64, Split::kTrain, 5);
  EXPECT_TRUE(torch::equal(a.images, b.images));
  EXPECT_TRUE(torch::equal(a.labels, b.labels));
  const Dataset other_seed = makeSynthetic(64, Split::kTrain, 6);
  EXPECT_FALSE(torch::equal(a.images, other_seed.images));
  const Dataset test = makeSynthetic(64, Split::kTest, 5);
  EXPECT_FALSE(torch::equal(a.images, test.images));
  // A prefix of a larger set is the smaller set.
  const Dataset bigger = makeSynthetic(128, Split::kTrain, 5);
  EXPECT_TRUE(torch::equal(bigger.images.slice(0, 0, 64), a.images));
}

// Two hundred SGD steps of the mlp on the train split generalise to the test split, which
// only works if both share the class patterns.
TEST(Synthetic, LearnableByTheMlp) {
  constexpr uint64_t kSeed = 3;
  const Dataset train = makeSynthetic(2048, Split::kTrain, kSeed);
  const Dataset test = makeSynthetic(1024, Split::kTest, kSeed);
  Result<LayerChain> chain = LayerChain::build("mlp", kSeed);
  ASSERT_TRUE(chain.isOk());
  StageModule model(*chain, 0, chain->numLayers());
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  const EpochSampler sampler(train.size(), 32, kSeed);
  for (int64_t it = 0; it < 200; ++it) {
    auto batch = gatherBatch(train, sampler.batch(it));
    ASSERT_TRUE(batch.isOk());
    sgd.zero_grad();
    torch::nn::functional::cross_entropy(model->forward(batch->first), batch->second).backward();
    sgd.step();
  }
  torch::NoGradGuard no_grad;
  const double accuracy = model->forward(test.images)
                              .argmax(1)
                              .eq(test.labels)
                              .to(torch::kFloat64)
                              .mean()
                              .item<double>();
  EXPECT_GT(accuracy, 0.6) << "chance is 0.1";
}

TEST(LoadDataset, ByName) {
  Result<Dataset> train = loadDataset("synthetic", "", Split::kTrain, 0, 0, 1);
  ASSERT_TRUE(train.isOk());
  EXPECT_EQ(train->size(), 4096);
  Result<Dataset> test = loadDataset("synthetic", "", Split::kTest, 0, 0, 1);
  ASSERT_TRUE(test.isOk());
  EXPECT_EQ(test->size(), 1024);
  Result<Dataset> sized = loadDataset("synthetic", "", Split::kTrain, 0, 300, 1);
  ASSERT_TRUE(sized.isOk());
  EXPECT_EQ(sized->size(), 300);
  Result<Dataset> limited = loadDataset("synthetic", "", Split::kTrain, 50, 300, 1);
  ASSERT_TRUE(limited.isOk());
  EXPECT_EQ(limited->size(), 50);
  Result<Dataset> fmnist = loadDataset("fashion-mnist", "", Split::kTest, 10, 0, 1);
  ASSERT_TRUE(fmnist.isOk()) << fmnist.status().message();
  EXPECT_EQ(fmnist->size(), 10);
  EXPECT_EQ(fmnist->name, "fashion-mnist/test");

  Result<Dataset> unknown = loadDataset("cifar10", "", Split::kTrain, 0, 0, 1);
  ASSERT_FALSE(unknown.isOk());
  for (const char* name : {"cifar10", "fashion-mnist", "synthetic"}) {
    EXPECT_TRUE(contains(unknown.status().message(), name)) << unknown.status().message();
  }
}

TEST(GatherBatch, RowsInAnyOrderWithRepeats) {
  const Dataset d = makeSynthetic(20, Split::kTest, 2);
  Result<std::pair<torch::Tensor, torch::Tensor>> b = gatherBatch(d, {7, 3, 7, 19});
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->first.sizes(), (c10::IntArrayRef{4, 1, 28, 28}));
  EXPECT_TRUE(torch::equal(b->first[0], d.images[7]));
  EXPECT_TRUE(torch::equal(b->first[1], d.images[3]));
  EXPECT_TRUE(torch::equal(b->first[2], d.images[7]));
  EXPECT_EQ(b->second[3].item<int64_t>(), d.labels[19].item<int64_t>());

  for (int64_t bad : {int64_t{20}, int64_t{-1}}) {
    Result<std::pair<torch::Tensor, torch::Tensor>> r = gatherBatch(d, {1, bad});
    ASSERT_FALSE(r.isOk());
    EXPECT_TRUE(contains(r.status().message(), "index " + std::to_string(bad)))
        << r.status().message();
  }
}

}  // namespace
}  // namespace edgerig
