// The replica store that ftpipehd's neighbour and global replicas use (and respipe's can): the
// newest copy per layer wins, whatever order copies arrive in; layers without parameters are
// held too; asking for a layer not held is an error that names it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/algorithms/pipeline/common/replica_store.h"

namespace edgerig {
namespace {

ModelState copyOf(float value) {
  return {{"conv1.0.weight", torch::full({2, 2}, value)},
          {"conv1.0.bias", torch::full({2}, value)},
          {"fc1.0.weight", torch::full({3}, value)}};
}

TEST(ReplicaStore, KeepsTheNewestCopyOfEachLayer) {
  ReplicaStore store;
  store.put(6, {"conv1", "pool1"}, copyOf(6));
  store.put(3, {"conv1", "pool1", "fc1"}, copyOf(3));  // late: only fc1 is new
  EXPECT_EQ(store.iterationOf("conv1"), 6);
  EXPECT_EQ(store.iterationOf("fc1"), 3);
  EXPECT_EQ(store.iterationOf("pool1"), 6);
  EXPECT_EQ(store.iterationOf("fc2"), -1);
  auto conv1 = store.take({"conv1", "pool1"});
  ASSERT_TRUE(conv1.isOk());
  ASSERT_EQ(conv1->size(), 2u);  // the pool has no tensors and is still held
  EXPECT_EQ((*conv1)[0].first, "conv1.0.weight");
  EXPECT_EQ((*conv1)[0].second.max().item<float>(), 6.0f);
  store.put(9, {"fc1"}, copyOf(9));
  auto both = store.take({"fc1", "conv1"});
  ASSERT_TRUE(both.isOk());
  EXPECT_EQ(both->front().first, "fc1.0.weight");  // in the order asked
  EXPECT_EQ(both->front().second.max().item<float>(), 9.0f);
}

TEST(ReplicaStore, AMissingLayerIsAnErrorNamingIt) {
  ReplicaStore store;
  store.put(1, {"conv1"}, copyOf(1));
  auto missing = store.take({"conv1", "fc2"});
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("'fc2'"), std::string::npos);
  EXPECT_EQ(layerOfTensor("fc1.0.weight.momentum"), "fc1");
}

}  // namespace
}  // namespace edgerig
