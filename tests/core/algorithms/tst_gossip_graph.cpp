// The gossip graphs and their mixing weights: every kind has the degrees it promises, the
// graph of a round follows from the seed alone, the one-peer exponential graph rotates through
// SGP's reference phone book (facebookresearch/stochastic_gradient_push, gossip/graph_manager.py,
// DynamicDirectedExponentialGraph: peers +2^0, −2^0, +2^1, −2^1, ... each once, one per round),
// re-drawn graphs change only at their period, Metropolis–Hastings weights are doubly
// stochastic, push-sum's are column stochastic, and dropping a device re-normalises them.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/algorithms/decentralized/graphs/gossip_graph.h"
#include "core/algorithms/decentralized/graphs/mixing_weights.h"

namespace edgerig {
namespace {

std::vector<int> firstDevices(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

Digraph graphOf(const GraphSpec& spec, const std::vector<int>& members, int64_t round = 0) {
  auto g = graphAt(spec, members, round);
  EXPECT_TRUE(g.isOk()) << g.status().message();
  return g ? *g : Digraph{};
}

GraphSpec spec(const std::string& kind, uint64_t seed = 7, int degree = 3, int64_t redraw = 0) {
  GraphSpec s;
  s.kind = kind;
  s.seed = seed;
  s.degree = degree;
  s.redraw_every = redraw;
  return s;
}

std::set<size_t> outDegrees(const Digraph& g) {
  std::set<size_t> out;
  for (int d : g.members) out.insert(g.outOf(d).size());
  return out;
}

TEST(GossipGraph, UndirectedKindsHaveTheirDegrees) {
  for (int n : {3, 4, 5, 8, 9, 16}) {
    SCOPED_TRACE(std::to_string(n) + " devices");
    const auto members = firstDevices(n);
    const Digraph ring = graphOf(spec(kRingGraph), members);
    EXPECT_EQ(outDegrees(ring), std::set<size_t>{2});
    EXPECT_TRUE(ring.symmetric());
    EXPECT_TRUE(ring.stronglyConnected());
    EXPECT_EQ(ring.outOf(0), (std::vector<int>{1, n - 1}));

    const Digraph complete = graphOf(spec(kCompleteGraph), members);
    EXPECT_EQ(outDegrees(complete), std::set<size_t>{static_cast<size_t>(n - 1)});

    const Digraph torus = graphOf(spec(kTorusGraph), members);
    EXPECT_TRUE(torus.symmetric());
    EXPECT_TRUE(torus.stronglyConnected());
  }
  // A 3×3 and a 4×4 torus: four neighbours each (up, down, left, right); 2×4: three.
  EXPECT_EQ(outDegrees(graphOf(spec(kTorusGraph), firstDevices(9))), std::set<size_t>{4});
  EXPECT_EQ(graphOf(spec(kTorusGraph), firstDevices(16)).outOf(5), (std::vector<int>{1, 4, 6, 9}));
  EXPECT_EQ(outDegrees(graphOf(spec(kTorusGraph), firstDevices(8))), std::set<size_t>{3});
}

TEST(GossipGraph, RandomRegularIsRegularConnectedAndSeeded) {
  for (int n : {4, 6, 7, 10, 16}) {
    for (int d : {2, 3, 4}) {
      if (d >= n || (n * d) % 2 == 1) continue;
      for (uint64_t seed = 1; seed <= 20; ++seed) {
        SCOPED_TRACE("n " + std::to_string(n) + " d " + std::to_string(d) + " seed " +
                     std::to_string(seed));
        const Digraph g = graphOf(spec(kRandomRegularGraph, seed, d), firstDevices(n));
        EXPECT_EQ(outDegrees(g), std::set<size_t>{static_cast<size_t>(d)});
        EXPECT_TRUE(g.symmetric());
        EXPECT_TRUE(g.stronglyConnected());
        for (int v : g.members) {
          const auto& out = g.outOf(v);
          EXPECT_EQ(std::set<int>(out.begin(), out.end()).size(), out.size()) << "no multi-edge";
          EXPECT_EQ(std::count(out.begin(), out.end(), v), 0) << "no self loop";
        }
      }
    }
  }
  // The same seed draws the same graph; seeds differ in what they draw.
  const auto members = firstDevices(10);
  EXPECT_EQ(graphOf(spec(kRandomRegularGraph, 5), members),
            graphOf(spec(kRandomRegularGraph, 5), members));
  std::set<std::map<int, std::vector<int>>> distinct;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    distinct.insert(graphOf(spec(kRandomRegularGraph, seed), members).out);
  }
  EXPECT_GE(distinct.size(), 8u);
}

TEST(GossipGraph, ExponentialSendsToPowersOfTwoAhead) {
  const Digraph g8 = graphOf(spec(kExponentialGraph), firstDevices(8));
  EXPECT_EQ(g8.outOf(0), (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(g8.outOf(6), (std::vector<int>{0, 2, 7}));  // 7, 0, 2
  EXPECT_FALSE(g8.symmetric());
  EXPECT_TRUE(g8.stronglyConnected());
  const Digraph g6 = graphOf(spec(kExponentialGraph), firstDevices(6));
  EXPECT_EQ(g6.outOf(3), (std::vector<int>{1, 4, 5}));  // 4, 5, 7 mod 6 = 1
}

// SGP's phone book, written out by hand from graph_manager.py for n = 4, 5 and 8.
TEST(GossipGraph, OnePeerExponentialRotatesLikeSgpsReferenceCode) {
  const std::map<int, std::vector<int>> offsets = {
      {4, {1, 3, 2}},        // +1, −1, +2 (−2 = +2 again)
      {5, {1, 4, 2, 3}},     // +1, −1, +2, −2
      {8, {1, 7, 2, 6, 4}},  // +1, −1, +2, −2, +4 (−4 = +4 again)
      {2, {1}},              // +1 (−1 = +1 again)
  };
  for (const auto& [n, peers] : offsets) {
    SCOPED_TRACE(std::to_string(n) + " devices");
    for (int64_t t = 0; t < 12; ++t) {
      const Digraph g = graphOf(spec(kOnePeerExponentialGraph), firstDevices(n), t);
      const int offset = peers[static_cast<size_t>(t) % peers.size()];
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(g.outOf(i), (std::vector<int>{(i + offset) % n})) << "round " << t;
        EXPECT_EQ(g.inOf(i).size(), 1u);
      }
      EXPECT_EQ(graphChangesAt(spec(kOnePeerExponentialGraph), n, t), t == 0 || peers.size() > 1);
    }
  }
}

TEST(GossipGraph, RedrawnGraphsChangeOnlyAtTheirPeriod) {
  const auto members = firstDevices(8);
  for (const std::string kind : {kRingGraph, kRandomRegularGraph, kExponentialGraph}) {
    SCOPED_TRACE(kind);
    const GraphSpec s = spec(kind, 3, 3, /*redraw=*/5);
    std::set<std::map<int, std::vector<int>>> draws;
    for (int64_t t = 0; t < 40; ++t) {
      const Digraph g = graphOf(s, members, t);
      EXPECT_EQ(g, graphOf(s, members, t)) << "deterministic";
      EXPECT_EQ(graphChangesAt(s, 8, t), t % 5 == 0);
      if (t % 5 != 0) {
        EXPECT_EQ(g, graphOf(s, members, t - 1)) << "round " << t;
      }
      EXPECT_TRUE(g.stronglyConnected());
      if (kind == kRingGraph) {
        EXPECT_EQ(outDegrees(g), std::set<size_t>{2});
      }
      draws.insert(g.out);
    }
    EXPECT_GE(draws.size(), 6u) << "8 draws, nearly all different";
    EXPECT_NE(graphOf(s, members, 0), graphOf(spec(kind, 4, 3, 5), members, 0))
        << "another seed draws another graph";
  }
  EXPECT_FALSE(graphChangesAt(spec(kRingGraph), 8, 3)) << "a static graph never changes";
}

void expectStochastic(const MixingWeights& w, bool rows, bool columns) {
  for (int i : w.members()) {
    if (columns) {
      EXPECT_NEAR(w.columnSum(i), 1.0, 1e-12) << "column " << i;
    }
    if (rows) {
      EXPECT_NEAR(w.rowSum(i), 1.0, 1e-12) << "row " << i;
    }
    for (int j : w.members()) EXPECT_GE(w.at(i, j), 0.0);
  }
}

TEST(MixingWeights, MetropolisHastingsIsDoublyStochasticAndSymmetric) {
  for (const std::string kind : {kRingGraph, kTorusGraph, kCompleteGraph, kRandomRegularGraph}) {
    for (int n : {2, 3, 6, 8}) {
      if (kind == kRandomRegularGraph && n < 4) continue;
      SCOPED_TRACE(kind + " on " + std::to_string(n));
      const Digraph g = graphOf(spec(kind), firstDevices(n));
      const MixingWeights w = metropolisHastings(g);
      expectStochastic(w, true, true);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) EXPECT_DOUBLE_EQ(w.at(i, j), w.at(j, i));
      }
    }
  }
  // The formula on a graph whose degrees differ (a path 0 - 1 - 2 as a ring of 3 minus an edge
  // is not a kind: build it by hand). w_01 = 1/(1 + max(1, 2)) = 1/3, w_00 = 2/3, w_11 = 1/3.
  Digraph path;
  path.members = {0, 1, 2};
  path.out = {{0, {1}}, {1, {0, 2}}, {2, {1}}};
  const MixingWeights w = metropolisHastings(path);
  EXPECT_DOUBLE_EQ(w.at(0, 1), 1.0 / 3);
  EXPECT_DOUBLE_EQ(w.self(0), 2.0 / 3);
  EXPECT_DOUBLE_EQ(w.self(1), 1.0 / 3);
  expectStochastic(w, true, true);
}

TEST(MixingWeights, PushSumIsColumnStochasticUniformOverOutNeighbours) {
  // Directed and not regular: 0 → {1, 2, 3}, 1 → {0}, 2 → {3}, 3 → {0, 1}.
  Digraph g;
  g.members = {0, 1, 2, 3};
  g.out = {{0, {1, 2, 3}}, {1, {0}}, {2, {3}}, {3, {0, 1}}};
  const MixingWeights w = pushSumUniform(g);
  expectStochastic(w, false, true);
  EXPECT_DOUBLE_EQ(w.self(0), 0.25);
  EXPECT_DOUBLE_EQ(w.at(2, 0), 0.25);
  EXPECT_DOUBLE_EQ(w.at(0, 1), 0.5);
  EXPECT_DOUBLE_EQ(w.at(1, 3), 1.0 / 3);
  EXPECT_DOUBLE_EQ(w.rowSum(2), 0.75) << "rows need not sum to 1";
  EXPECT_EQ(w.outOf(0), (std::vector<std::pair<int, double>>{{1, 0.25}, {2, 0.25}, {3, 0.25}}));
  for (int n : {2, 5, 8}) {
    for (int64_t t = 0; t < 6; ++t) {
      expectStochastic(pushSumUniform(graphOf(spec(kOnePeerExponentialGraph), firstDevices(n), t)),
                       true, true);
    }
    expectStochastic(pushSumUniform(graphOf(spec(kExponentialGraph), firstDevices(n))), false,
                     true);
  }
}

TEST(MixingWeights, ADroppedDeviceLeavesAGraphOfTheSurvivors) {
  // Device 2 of 0..4 is lost: the graph is drawn again over the other four and the weights are
  // re-normalised over them.
  const std::vector<int> survivors = {0, 1, 3, 4};
  for (const std::string kind : {kRingGraph, kRandomRegularGraph, kOnePeerExponentialGraph}) {
    SCOPED_TRACE(kind);
    for (int64_t t = 0; t < 4; ++t) {
      const Digraph g = graphOf(spec(kind, 9, 3), survivors, t);
      EXPECT_EQ(g.members, survivors);
      for (const auto& [from, tos] : g.out) {
        EXPECT_NE(from, 2);
        EXPECT_EQ(std::count(tos.begin(), tos.end(), 2), 0);
      }
      // (one round of the one-peer graph is not connected: only its cycle of rounds is)
      EXPECT_TRUE(g.stronglyConnected() || kind == kOnePeerExponentialGraph);
      if (g.symmetric()) {
        expectStochastic(metropolisHastings(g), true, true);
      }
      expectStochastic(pushSumUniform(g), false, true);
    }
  }
  EXPECT_EQ(graphOf(spec(kRingGraph), survivors).outOf(4), (std::vector<int>{0, 3}));
  EXPECT_EQ(graphOf(spec(kOnePeerExponentialGraph), survivors, 0).outOf(4), (std::vector<int>{0}));
  // Three devices left of a declared degree 3: the largest that exists.
  EXPECT_EQ(regularDegree(3, 3), 2);
  EXPECT_EQ(regularDegree(3, 5), 2);  // 5 × 3 is odd
  EXPECT_EQ(regularDegree(4, 5), 4);
}

TEST(GossipGraph, ChecksNameTheField) {
  EXPECT_TRUE(checkGraph(spec(kRandomRegularGraph, 1, 3), 4).isOk());
  auto odd = checkGraph(spec(kRandomRegularGraph, 1, 3), 5);
  EXPECT_EQ(odd.message().rfind("field algorithm.degree: ", 0), 0u) << odd.message();
  auto big = checkGraph(spec(kRandomRegularGraph, 1, 4), 4);
  EXPECT_EQ(big.message().rfind("field algorithm.degree: ", 0), 0u) << big.message();
  EXPECT_FALSE(checkGraph(spec("star"), 4).isOk());
  EXPECT_TRUE(checkGraph(spec(kRingGraph, 1, 99), 4).isOk()) << "degree is random-regular's";
}

}  // namespace
}  // namespace edgerig
