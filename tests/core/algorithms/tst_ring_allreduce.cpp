// The ring all-reduce engine, n of them in one process over an in-memory network: every device
// ends with the exact sum of every device's buckets, whatever the ring size, the bucket sizes
// (not divisible by n, smaller than n) and the order in which chunks arrive, and each device
// sends exactly 2(n−1) chunks per bucket, each of about 1/n of it (the bandwidth-optimal ring).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <deque>
#include <map>
#include <random>

#include "core/algorithms/decentralized/allreduce/ring_allreduce.h"

namespace edgerig {
namespace {

struct Chunk {
  int from, to, bucket, step;
  torch::Tensor values;
};

struct Network {
  std::vector<std::unique_ptr<RingAllreduce>> engines;  // by device index
  std::map<std::pair<int, int>, std::deque<Chunk>> links;
  std::map<int, int64_t> sent_values;  // per sender
  std::map<int, int> sent_chunks;
};

// Runs one all-reduce of `inputs[d]` (per device, per bucket) over a ring in `order`, delivering
// chunks from a random link each time (FIFO within a link, as TCP is) or, with `any_order`, any
// pending chunk at all. Returns each device's buckets.
std::vector<std::vector<torch::Tensor>> reduce(const std::vector<int>& order,
                                               std::vector<std::vector<torch::Tensor>> inputs,
                                               uint64_t seed, bool any_order,
                                               Network* out = nullptr) {
  Network net;
  const int n = static_cast<int>(order.size());
  int max_device = 0;
  for (int d : order) max_device = std::max(max_device, d);
  net.engines.resize(static_cast<size_t>(max_device) + 1);
  for (int d : order) {
    net.engines[d] = std::make_unique<RingAllreduce>(
        order, d, [&net, d](int to, int bucket, int step, const torch::Tensor& values) {
          net.links[{d, to}].push_back({d, to, bucket, step, values.clone()});
          net.sent_values[d] += values.numel();
          ++net.sent_chunks[d];
        });
  }
  std::mt19937_64 rng(seed);
  // Devices start in a random order, so some chunks arrive before their receiver started.
  std::vector<int> starters = order;
  std::shuffle(starters.begin(), starters.end(), rng);
  for (int i = 0; i < n; ++i) {
    net.engines[starters[i]]->start(std::move(inputs[starters[i]]));
    // Deliver a few chunks between starts.
    for (int k = 0; k < 3; ++k) {
      std::vector<std::pair<int, int>> busy;
      for (auto& [link, q] : net.links) {
        if (!q.empty()) busy.push_back(link);
      }
      if (busy.empty()) break;
      auto& q = net.links[busy[rng() % busy.size()]];
      Chunk c = std::move(q.front());
      q.pop_front();
      EXPECT_TRUE(net.engines[c.to]->onChunk(c.bucket, c.step, c.values));
    }
  }
  for (;;) {
    std::vector<std::pair<int, int>> busy;
    for (auto& [link, q] : net.links) {
      if (!q.empty()) busy.push_back(link);
    }
    if (busy.empty()) break;
    auto& q = net.links[busy[rng() % busy.size()]];
    const size_t pick = any_order ? rng() % q.size() : 0;
    Chunk c = std::move(q[pick]);
    q.erase(q.begin() + static_cast<std::ptrdiff_t>(pick));
    EXPECT_TRUE(net.engines[c.to]->onChunk(c.bucket, c.step, c.values));
  }
  std::vector<std::vector<torch::Tensor>> result(net.engines.size());
  for (int d : order) {
    EXPECT_TRUE(net.engines[d]->done()) << "device " << d;
    result[d] = net.engines[d]->buckets();
  }
  if (out) *out = std::move(net);
  return result;
}

TEST(RingAllreduce, EveryDeviceGetsTheSum) {
  torch::manual_seed(1);
  for (int n : {1, 2, 3, 4, 5, 7}) {
    for (bool any_order : {false, true}) {
      SCOPED_TRACE(std::to_string(n) + " devices" + (any_order ? ", any order" : ""));
      // Ring order is not index order: devices 0..n-1 shuffled, with gaps in the numbering.
      std::vector<int> order;
      for (int i = 0; i < n; ++i) order.push_back(2 * i + 1);
      std::shuffle(order.begin(), order.end(), std::mt19937_64(n));
      const std::vector<int64_t> sizes = {1, 2, 13, 1000, 4099};  // some smaller than n
      std::vector<std::vector<torch::Tensor>> inputs(2 * n + 2);
      std::vector<torch::Tensor> expected;
      for (int64_t size : sizes) expected.push_back(torch::zeros({size}, torch::kFloat64));
      for (int d : order) {
        for (size_t b = 0; b < sizes.size(); ++b) {
          torch::Tensor t = torch::randn({sizes[b]});
          expected[b] += t.to(torch::kFloat64);
          inputs[d].push_back(t);
        }
      }
      auto result = reduce(order, inputs, 100 + n, any_order);
      for (int d : order) {
        ASSERT_EQ(result[d].size(), sizes.size());
        for (size_t b = 0; b < sizes.size(); ++b) {
          const double err =
              (result[d][b].to(torch::kFloat64) - expected[b]).abs().max().item<double>();
          EXPECT_LT(err, 1e-5) << "device " << d << " bucket " << b;
        }
      }
    }
  }
}

TEST(RingAllreduce, SendsTwoNMinusOneChunksOfAnNthEach) {
  const int n = 4;
  const int64_t size = 4000;
  std::vector<int> order = {0, 1, 2, 3};
  std::vector<std::vector<torch::Tensor>> inputs(n);
  for (int d = 0; d < n; ++d) inputs[d] = {torch::ones({size}), torch::ones({size})};
  Network net;
  reduce(order, inputs, 5, false, &net);
  for (int d = 0; d < n; ++d) {
    EXPECT_EQ(net.sent_chunks[d], 2 * 2 * (n - 1)) << "two buckets, 2(n-1) steps each";
    // 2(n-1)/n of each bucket: the ring's bandwidth-optimal volume.
    EXPECT_EQ(net.sent_values[d], 2 * 2 * (n - 1) * size / n);
  }
}

TEST(RingAllreduce, BadChunksAreRefused) {
  RingAllreduce r({0, 1, 2}, 0, [](int, int, int, const torch::Tensor&) {});
  r.start({torch::zeros({9})});
  EXPECT_FALSE(r.onChunk(0, 4, torch::zeros({3})));  // no step 4 in a ring of 3
  EXPECT_FALSE(r.onChunk(0, -1, torch::zeros({3})));
  EXPECT_FALSE(r.onChunk(2, 0, torch::zeros({3})));  // no bucket 2
  EXPECT_FALSE(r.onChunk(0, 0, torch::zeros({4})));  // chunk of 3 values expected
  EXPECT_TRUE(r.onChunk(0, 0, torch::zeros({3})));
}

}  // namespace
}  // namespace edgerig
