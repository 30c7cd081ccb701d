// Push-sum mixing with no training, n devices in one process: on a directed, non-regular,
// time-varying graph the weights keep Σu_i = n and every z_i = x_i / u_i converges to the true
// average of the starting vectors (computed here in double precision, not by the code under
// test); with the weight reset to 1 every round (plain gossip) the same graphs agree on something
// else, which is what makes it a test of the weight. dpsgd's Metropolis–Hastings gossip averages
// exactly on undirected graphs, and a share lost to a dropped device is re-normalised. The
// consensus distance of models is checked against a hand computation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/algorithms/decentralized/common/push_sum.h"
#include "core/algorithms/decentralized/common/replica_set.h"
#include "core/algorithms/decentralized/graphs/mixing_weights.h"

namespace edgerig {
namespace {

constexpr int kDevices = 5;

// Three directed graphs over 0..4 with out-degrees from 1 to 3, used in turn (round t uses
// graphs[t % 3]); their union is strongly connected, no one of them is regular.
std::vector<Digraph> timeVaryingGraphs() {
  std::vector<Digraph> g(3);
  for (auto& d : g) d.members = {0, 1, 2, 3, 4};
  g[0].out = {{0, {1, 2, 3}}, {1, {2}}, {2, {0}}, {3, {4}}, {4, {0, 1}}};
  g[1].out = {{0, {4}}, {1, {0, 3}}, {2, {1, 3, 4}}, {3, {2}}, {4, {3}}};
  g[2].out = {{0, {2}}, {1, {4}}, {2, {}}, {3, {0, 1}}, {4, {2, 3}}};
  return g;
}

struct Devices {
  std::vector<PushSumNode> nodes;
  std::vector<std::vector<torch::Tensor>> z;  // each device's model: two tensors
};

Devices startingDevices() {
  Devices d;
  torch::manual_seed(3);
  for (int i = 0; i < kDevices; ++i) {
    d.nodes.emplace_back(1.0);
    d.z.push_back({torch::randn({4, 3}) * (i + 1), torch::randn({7}) + i});
  }
  return d;
}

// One round the way GossipWorker runs it: numerators of z, shares out, shares in (in sender
// order), z = x / u. Without `push_sum` the weight starts every round at 1 (plain gossip).
void mixRound(Devices& d, const Digraph& g, const MixingWeights& w, bool push_sum) {
  std::vector<std::vector<PushSumNode::Share>> inbox(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    if (!push_sum) d.nodes[i].setWeight(1.0);
    d.nodes[i].numeratorsOf(d.z[i]);
    for (auto& s : d.nodes[i].share(w.self(i), w.outOf(i))) inbox[s.to].push_back(std::move(s));
  }
  for (int i = 0; i < kDevices; ++i) {
    for (const auto& s : inbox[i]) {
      ASSERT_TRUE(d.nodes[i].absorb(s.values, s.weight).isOk());
    }
    d.nodes[i].debias(d.z[i]);
  }
}

// The largest distance of any device's model from `target`.
double worstDistance(const Devices& d, const std::vector<torch::Tensor>& target) {
  double worst = 0;
  for (const auto& z : d.z) {
    for (size_t k = 0; k < z.size(); ++k) {
      worst = std::max(worst, (z[k].to(torch::kFloat64) - target[k]).abs().max().item<double>());
    }
  }
  return worst;
}

std::vector<torch::Tensor> trueAverage(const Devices& d) {
  std::vector<torch::Tensor> mean;
  for (size_t k = 0; k < d.z.front().size(); ++k) {
    torch::Tensor sum = torch::zeros_like(d.z.front()[k], torch::kFloat64);
    for (const auto& z : d.z) sum += z[k].to(torch::kFloat64);
    mean.push_back(sum / kDevices);
  }
  return mean;
}

TEST(PushSum, DirectedTimeVaryingGraphKeepsTheMassAndReachesTheAverage) {
  Devices d = startingDevices();
  const auto average = trueAverage(d);
  const auto graphs = timeVaryingGraphs();
  const double start = worstDistance(d, average);
  for (int t = 0; t < 150; ++t) {
    const Digraph& g = graphs[t % graphs.size()];
    mixRound(d, g, pushSumUniform(g), /*push_sum=*/true);
    double u = 0;
    for (const auto& n : d.nodes) u += n.weight();
    ASSERT_NEAR(u, kDevices, 1e-9) << "round " << t;
    // The numerators' sum is the starting sum: nothing created, nothing lost.
    for (size_t k = 0; k < average.size(); ++k) {
      torch::Tensor x = torch::zeros_like(average[k]);
      for (const auto& n : d.nodes) x += n.numerators()[k].to(torch::kFloat64);
      ASSERT_LT((x - average[k] * kDevices).abs().max().item<double>(), 1e-4) << "round " << t;
    }
  }
  std::vector<double> weights;
  for (const auto& n : d.nodes) weights.push_back(n.weight());
  EXPECT_GT(*std::max_element(weights.begin(), weights.end()) -
                *std::min_element(weights.begin(), weights.end()),
            0.05)
      << "the weights differ: the graphs are not regular";
  // Measured: from ~4 to ~5e-7 (float32 rounding) after 150 rounds.
  EXPECT_LT(worstDistance(d, average), 1e-5) << "from " << start;
}

TEST(PushSum, WithoutTheWeightTheSameGraphsMissTheAverage) {
  Devices d = startingDevices();
  const auto average = trueAverage(d);
  const auto graphs = timeVaryingGraphs();
  for (int t = 0; t < 150; ++t) {
    const Digraph& g = graphs[t % graphs.size()];
    mixRound(d, g, pushSumUniform(g), /*push_sum=*/false);
  }
  // They agree with each other (a column-stochastic product converges) but not on the average.
  EXPECT_GT(worstDistance(d, average), 0.05);
}

TEST(Gossip, MetropolisHastingsAveragesOnAnUndirectedGraph) {
  Devices d = startingDevices();
  const auto average = trueAverage(d);
  Digraph ring;
  ring.members = {0, 1, 2, 3, 4};
  for (int i = 0; i < kDevices; ++i) ring.out[i] = {(i + 1) % kDevices, (i + 4) % kDevices};
  for (auto& tos : ring.out) std::sort(tos.second.begin(), tos.second.end());
  const MixingWeights w = metropolisHastings(ring);
  for (int t = 0; t < 120; ++t) {
    mixRound(d, ring, w, /*push_sum=*/false);
    // Doubly stochastic: the mean of the models does not move, round by round.
    EXPECT_LT((trueAverage(d)[0] - average[0]).abs().max().item<double>(), 1e-5);
  }
  EXPECT_LT(worstDistance(d, average), 1e-5);
}

TEST(Gossip, ALostShareIsRenormalised) {
  // Device 0 of a ring 4 - 0 - 1 gets its own third and device 1's; device 4's never comes.
  // Dividing by the weight that came (2/3) gives the mean of the two, not 2/3 of it.
  PushSumNode node(1.0);
  std::vector<torch::Tensor> z = {torch::full({3}, 3.0)};
  node.numeratorsOf(z);
  auto shares = node.share(1.0 / 3, {{1, 1.0 / 3}, {4, 1.0 / 3}});
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_NEAR(shares[0].weight, 1.0 / 3, 1e-15);
  EXPECT_NEAR(shares[0].values[0][0].item<double>(), 1.0, 1e-6);
  ASSERT_TRUE(node.absorb({torch::full({3}, 9.0 / 3)}, 1.0 / 3).isOk());  // device 1 holds 9
  node.debias(z);
  EXPECT_NEAR(z[0][1].item<double>(), 6.0, 1e-5);
  EXPECT_NEAR(node.weight(), 2.0 / 3, 1e-15);
  EXPECT_FALSE(node.absorb({torch::zeros({4})}, 0.1).isOk()) << "a share of another shape";
}

TEST(ConsensusDistance, IsTheRootMeanSquareDistanceFromTheMean) {
  // Two devices, one tensor each: (0, 0) and (3, 4); mean (1.5, 2); each is 2.5 away.
  ModelState a = {{"w", torch::tensor({0.0f, 0.0f})}, {"steps", torch::tensor({1})}};
  ModelState b = {{"w", torch::tensor({3.0f, 4.0f})}, {"steps", torch::tensor({7})}};
  auto d = consensusDistance({a, b});
  ASSERT_TRUE(d.isOk()) << d.status().message();
  EXPECT_NEAR(*d, 2.5, 1e-6);
  auto same = consensusDistance({a, a, a});
  ASSERT_TRUE(same.isOk());
  EXPECT_EQ(*same, 0.0);
  // Three devices: 0, 0, 3 on one number: mean 1, squared distances 1, 1, 4; sqrt(6/3).
  const ModelState zero = {{"w", torch::tensor({0.0})}};
  const ModelState three_ = {{"w", torch::tensor({3.0})}};
  auto three = consensusDistance({zero, zero, three_});
  ASSERT_TRUE(three.isOk());
  EXPECT_NEAR(*three, std::sqrt(2.0), 1e-12);
  EXPECT_FALSE(consensusDistance({}).isOk());
}

}  // namespace
}  // namespace edgerig
