// sparse-push's mixing with no training, n devices in one process. Error feedback loses nothing:
// what crossed the wire (encoded and decoded as the agents do) plus the residual is everything
// that was fed in, summed here in double precision. top-k keeps the largest entries of each
// tensor; a message is 8 bytes per kept entry plus framing, or about 4 in the compact encoding
// (varint offset gaps, float16 values), whose rounding stays in the residual. On a directed,
// non-regular, time-varying graph compressed push-sum keeps Σx and Σu and reaches the true average;
// with k = 1 and γ = 1 it is push-sum (sgp) round for round. Skew compensation (our design) shrinks
// the disagreement that constant per-device drifts (non-IID data) hold up, without moving the
// devices' average.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/common/push_sum.h"
#include "core/algorithms/decentralized/graphs/gossip_graph.h"
#include "core/algorithms/decentralized/graphs/mixing_weights.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_worker.h"
#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"
#include "core/model/tensor_codec.h"
#include "decentralized.pb.h"

namespace edgerig {
namespace {

constexpr int kDevices = 5;

// The graphs of tst_push_sum: out-degrees 1 to 3, used in turn; the union strongly connected.
std::vector<Digraph> timeVaryingGraphs() {
  std::vector<Digraph> g(3);
  for (auto& d : g) d.members = {0, 1, 2, 3, 4};
  g[0].out = {{0, {1, 2, 3}}, {1, {2}}, {2, {0}}, {3, {4}}, {4, {0, 1}}};
  g[1].out = {{0, {4}}, {1, {0, 3}}, {2, {1, 3, 4}}, {3, {2}}, {4, {3}}};
  g[2].out = {{0, {2}}, {1, {4}}, {2, {}}, {3, {0, 1}}, {4, {2, 3}}};
  return g;
}

std::vector<torch::Tensor> startingModel(int i) {
  return {torch::randn({4, 3}) * (i + 1), torch::randn({7}) + i, torch::randn({2})};
}

// A message the way SparsePushWorker puts it on the wire (exact: two tensors; compact: gaps and
// float16 halves in the body), and read back the way it reads it.
wire::AlgoMessage encode(const SparsePushNode::Message& m, bool compact = false) {
  decentralized::SparseShare body;
  body.set_iteration(7);
  body.set_graph_epoch(1);
  body.set_weight(m.weight > 0 ? m.weight : 1.0);  // weight 0 (no mixing) cannot pass the check
  if (compact) encodeCompact(m.delta, body);
  wire::AlgoMessage out = algoMessage(bridge::TrafficKind::kGossip, body);
  if (!compact) {
    appendTensor(out, m.delta.indices);
    appendTensor(out, m.delta.values);
  }
  return out;
}

SparseDelta decode(const wire::AlgoMessage& m, int64_t parameters = 1 << 30) {
  auto checked = checkSparseShare(m, parameters);
  EXPECT_TRUE(checked.isOk()) << checked.status().message();
  auto d = deltaOf(m, *checked);
  EXPECT_TRUE(d.isOk());
  return *d;
}

TEST(SparsePush, ErrorFeedbackLosesNothing) {
  torch::manual_seed(11);
  SparsePushNode::Options o;
  o.k = 0.2;
  // The compact encoding rounds the values to float16: what rounding leaves out stays in the
  // residual too.
  for (auto [kind, compact] :
       {std::pair{Compression::kTopK, false}, std::pair{Compression::kRandomK, false},
        std::pair{Compression::kTopK, true}}) {
    SCOPED_TRACE(compact ? "compact" : "exact");
    o.compression = kind;
    o.half_values = compact;
    std::vector<torch::Tensor> z = startingModel(0);
    SparsePushNode node(o, z);
    // Every change fed in, summed in double (the copies start at the starting model). Mixing
    // weight 0: the consensus step moves nothing, so x moves by what we feed.
    torch::Tensor fed = torch::zeros({21}, torch::kFloat64);
    torch::Tensor sent = torch::zeros_like(fed);
    constexpr int kRounds = 40;
    for (int t = 0; t < kRounds; ++t) {
      std::vector<torch::Tensor> change = {torch::randn({4, 3}), torch::randn({7}) * 0.1,
                                           torch::randn({2}) * 3};
      for (size_t k = 0; k < z.size(); ++k) z[k] += change[k];
      fed += torch::cat({change[0].reshape(-1), change[1].reshape(-1), change[2].reshape(-1)})
                 .to(torch::kFloat64);
      node.numeratorsOf(z);
      auto messages = node.share(t, {{1, 0.0}});
      ASSERT_EQ(messages.size(), 1u);
      const SparseDelta q = decode(encode(messages[0], compact));
      // ceil(0.2·n) of each tensor: 3 of 12, 2 of 7, 1 of 2.
      ASSERT_EQ(q.indices.numel(), 6);
      sent.index_add_(0, q.indices.to(torch::kLong), q.values.to(torch::kFloat64));
    }
    const torch::Tensor residual = node.residual(1).to(torch::kFloat64);
    const double err = (sent + residual - fed).abs().max().item<double>();
    EXPECT_LT(err, 1e-4) << "sent + residual = everything fed in";
    EXPECT_GT(residual.abs().max().item<double>(), 0.1) << "a residual is left to send";
  }
}

TEST(SparsePush, TopKKeepsTheLargestEntriesOfEachTensor) {
  SparseCompressor c({6, 4}, 0.5, Compression::kTopK);
  const torch::Tensor flat =
      torch::tensor({0.1f, -5.0f, 2.0f, 0.0f, 3.0f, -0.5f, 1.0f, -2.0f, 0.5f, 0.25f});
  const SparseDelta d = c.compress(flat, 0);
  const std::vector<int> idx(d.indices.data_ptr<int>(), d.indices.data_ptr<int>() + 5);
  EXPECT_EQ(idx, (std::vector<int>{1, 2, 4, 6, 7}));
  const std::vector<float> val(d.values.data_ptr<float>(), d.values.data_ptr<float>() + 5);
  EXPECT_EQ(val, (std::vector<float>{-5.0f, 2.0f, 3.0f, 1.0f, -2.0f}));
  EXPECT_EQ(c.keptPerMessage(), 5);
}

// A large tensor takes the sampled-threshold path; its choice is checked against a full topk,
// also where the strided sample (every 40th entry here) sees only the large entries and sets the
// threshold too high (then it falls back to the full topk).
TEST(SparsePush, TopKOfALargeTensorIsExact) {
  torch::manual_seed(4);
  const int64_t n = 200000;
  std::vector<torch::Tensor> cases = {torch::randn({n}), torch::randn({n}).pow(3)};
  torch::Tensor hidden = torch::randn({n}) * 1e-3;
  hidden.slice(0, 0, n, 40).add_(torch::randn({n / 40}));
  cases.push_back(hidden);
  for (const auto& v : cases) {
    SparseCompressor c({n}, 0.01, Compression::kTopK);
    const SparseDelta d = c.compress(v, 0);
    ASSERT_EQ(d.indices.numel(), 2000);
    const torch::Tensor want =
        std::get<0>(std::get<1>(torch::topk(v.abs(), 2000)).sort()).to(torch::kInt32);
    EXPECT_TRUE(torch::equal(d.indices, want));
    EXPECT_TRUE(torch::equal(d.values, v.index_select(0, want.to(torch::kLong))));
  }
}

TEST(SparsePush, AMessageIsEightBytesAKeptEntryPlusFraming) {
  // 100 000 parameters at k = 1 %: 1000 int32 indices and 1000 float32 values.
  std::vector<torch::Tensor> z = {torch::randn({1000, 90}), torch::randn({10000})};
  SparsePushNode::Options o;
  o.k = 0.01;
  SparsePushNode node(o, z);
  auto m = node.share(0, {{1, 0.5}});
  const size_t bytes = encode(m[0]).ByteSizeLong();
  EXPECT_GE(bytes, 8000u);
  EXPECT_LT(bytes, 8000u + 120u) << bytes;
}

TEST(SparsePush, ACompactMessageIsAboutFourBytesAKeptEntryAndCarriesWhatTheCopyAdded) {
  // 100 000 parameters at k = 1 %: 1000 entries, about 100 apart (a one- or two-byte gap) and a
  // two-byte float16 each; one entry beyond float16's range is clamped to 65504.
  torch::manual_seed(5);
  std::vector<torch::Tensor> z = {torch::randn({1000, 90}), torch::randn({10000})};
  SparsePushNode::Options o;
  o.k = 0.01;
  o.half_values = true;
  o.copies_start_at_model = false;  // the copy starts at zero: q is the model's top-k itself
  z[1][17] = 1e6;
  SparsePushNode node(o, z);
  auto m = node.share(0, {{1, 0.0}});  // weight 0: no consensus step, x stays the model
  const wire::AlgoMessage wire = encode(m[0], /*compact=*/true);
  const size_t bytes = wire.ByteSizeLong();
  EXPECT_GE(bytes, 3000u) << "at least a byte of gap and two of value an entry";
  EXPECT_LT(bytes, 4000u + 120u) << bytes;
  std::printf("measured: compact share of 1000 entries: %zu bytes (exact: 8000 + framing)\n",
              bytes);
  const SparseDelta q = decode(wire, 100000);
  EXPECT_TRUE(torch::equal(q.indices, m[0].delta.indices));
  EXPECT_TRUE(torch::equal(q.values, m[0].delta.values)) << "the receiver adds what the sender did";
  // The values are the model's within float16's rounding, and the clamped one says 65504.
  const torch::Tensor flat = torch::cat({z[0].reshape(-1), z[1].reshape(-1)});
  const torch::Tensor want = flat.index_select(0, q.indices.to(torch::kLong));
  const torch::Tensor clamped = q.indices.eq(90000 + 17);
  ASSERT_EQ(clamped.sum().item<int64_t>(), 1);
  EXPECT_EQ(q.values.masked_select(clamped).item<float>(), 65504.0f);
  const torch::Tensor rel =
      (q.values - want).abs().div(want.abs()).masked_select(clamped.logical_not());
  EXPECT_LE(rel.max().item<double>(), 1.0 / 2048) << "float16 keeps 11 significant bits";
  EXPECT_GT(rel.max().item<double>(), 0) << "and rounds";
  // What was not sent, the clamp's excess included, is the residual: 1e6 - 65504 at entry 17.
  EXPECT_NEAR(node.residual(1)[90000 + 17].item<double>(), 1e6 - 65504, 1e-2);
}

struct Devices {
  std::vector<SparsePushNode> nodes;
  std::vector<std::vector<torch::Tensor>> z;
};

// Devices that start apart (to average them): their copies start at zero, as in CHOCO's code.
Devices startingDevices(SparsePushNode::Options o) {
  o.copies_start_at_model = false;
  Devices d;
  torch::manual_seed(3);
  for (int i = 0; i < kDevices; ++i) {
    d.z.push_back(startingModel(i));
    d.nodes.emplace_back(o, d.z.back());
  }
  return d;
}

// One round as SparsePushWorker runs it; `drift[i]` is device i's local step.
void mixRound(Devices& d, int64_t t, const Digraph& g,
              const std::vector<std::vector<torch::Tensor>>* drift = nullptr) {
  const MixingWeights w = pushSumUniform(g);
  struct Sent {
    int from;
    SparsePushNode::Message m;
  };
  std::vector<std::vector<Sent>> inbox(kDevices);
  for (int i = 0; i < kDevices; ++i) {
    if (drift) {
      for (size_t k = 0; k < d.z[i].size(); ++k) d.z[i][k] += (*drift)[i][k];
    }
    d.nodes[i].numeratorsOf(d.z[i]);
    for (auto& m : d.nodes[i].share(t, w.outOf(i))) inbox[m.to].push_back({i, std::move(m)});
  }
  for (int i = 0; i < kDevices; ++i) {
    for (const auto& s : inbox[i]) {
      ASSERT_TRUE(d.nodes[i].absorb(s.from, decode(encode(s.m)), s.m.weight).isOk());
    }
    d.nodes[i].endRound();
    d.nodes[i].debias(d.z[i]);
  }
}

torch::Tensor flatModel(const std::vector<torch::Tensor>& z) {
  return torch::cat({z[0].reshape(-1), z[1].reshape(-1), z[2].reshape(-1)}).to(torch::kFloat64);
}

TEST(SparsePush, CompressedPushSumReachesTheTrueAverage) {
  SparsePushNode::Options o;
  o.k = 0.25;
  o.gamma = 0.4;
  Devices d = startingDevices(o);
  torch::Tensor avg = torch::zeros({21}, torch::kFloat64);
  for (const auto& z : d.z) avg += flatModel(z);
  avg /= kDevices;
  const auto graphs = timeVaryingGraphs();
  for (int t = 0; t < 400; ++t) {
    mixRound(d, t, graphs[t % 3]);
    double usum = 0;
    torch::Tensor xsum = torch::zeros({21}, torch::kFloat64);
    for (const auto& n : d.nodes) {
      usum += n.weight();
      xsum += n.numerators().to(torch::kFloat64);
    }
    ASSERT_NEAR(usum, kDevices, 1e-9) << "round " << t;
    ASSERT_LT((xsum / kDevices - avg).abs().max().item<double>(), 1e-4) << "round " << t;
  }
  double worst = 0;
  for (const auto& z : d.z)
    worst = std::max(worst, (flatModel(z) - avg).abs().max().item<double>());
  EXPECT_LT(worst, 1e-3) << "every z_i at the true average";
}

TEST(SparsePush, AtFullKAndUnitGammaItIsPushSum) {
  SparsePushNode::Options o;
  o.k = 1.0;
  o.gamma = 1.0;
  Devices d = startingDevices(o);
  std::vector<PushSumNode> ps(kDevices);
  std::vector<std::vector<torch::Tensor>> pz;
  for (const auto& z : d.z) {
    pz.push_back({});
    for (const auto& t : z) pz.back().push_back(t.clone());
  }
  const auto graphs = timeVaryingGraphs();
  for (int t = 0; t < 12; ++t) {
    const Digraph& g = graphs[t % 3];
    mixRound(d, t, g);
    const MixingWeights w = pushSumUniform(g);
    std::vector<std::vector<PushSumNode::Share>> inbox(kDevices);
    for (int i = 0; i < kDevices; ++i) {
      ps[i].numeratorsOf(pz[i]);
      for (auto& s : ps[i].share(w.self(i), w.outOf(i))) inbox[s.to].push_back(std::move(s));
    }
    for (int i = 0; i < kDevices; ++i) {
      for (const auto& s : inbox[i]) ASSERT_TRUE(ps[i].absorb(s.values, s.weight).isOk());
      ps[i].debias(pz[i]);
      EXPECT_NEAR(d.nodes[i].weight(), ps[i].weight(), 1e-12);
      EXPECT_LT((flatModel(d.z[i]) - flatModel(pz[i])).abs().max().item<double>(), 1e-5)
          << "device " << i << " round " << t;
    }
  }
}

// Constant, different drifts per device: the local steps of non-IID shards pull the models
// apart, and compressed gossip holds a disagreement against them. Compensation shrinks it (the
// analysis in docs/design.md: by about 1/(1 + s)); on SGP's one-peer graph (regular: u = 1) the
// corrections sum to zero, so the devices' average follows the same path.
TEST(SparsePush, SkewCompensationShrinksTheDisagreementOfDrifts) {
  GraphSpec spec;
  spec.kind = kOnePeerExponentialGraph;
  std::vector<Digraph> graphs;
  for (int t = 0; t < 12; ++t) {
    auto g = graphAt(spec, {0, 1, 2, 3, 4}, t);
    ASSERT_TRUE(g.isOk());
    graphs.push_back(*g);
  }
  auto run = [&](double s, torch::Tensor* mean) {
    SparsePushNode::Options o;
    o.k = 0.25;
    o.gamma = 0.5;
    o.skew = s;
    Devices d = startingDevices(o);
    torch::manual_seed(5);
    std::vector<std::vector<torch::Tensor>> drift;
    for (int i = 0; i < kDevices; ++i) {
      drift.push_back(
          {torch::randn({4, 3}) * 0.05, torch::randn({7}) * 0.05, torch::randn({2}) * 0.05});
    }
    double disagreement = 0;
    constexpr int kRounds = 600;
    for (int t = 0; t < kRounds; ++t) {
      mixRound(d, t, graphs[t % graphs.size()], &drift);
      if (t < kRounds - 100) continue;
      torch::Tensor avg = torch::zeros({21}, torch::kFloat64);
      for (const auto& z : d.z) avg += flatModel(z);
      avg /= kDevices;
      for (const auto& z : d.z) disagreement += (flatModel(z) - avg).pow(2).sum().item<double>();
    }
    *mean = torch::zeros({21}, torch::kFloat64);
    for (const auto& z : d.z) *mean += flatModel(z) / kDevices;
    return disagreement / 100;
  };
  torch::Tensor mean_off, mean_on, mean_half;
  const double off = run(0.0, &mean_off);
  const double half = run(0.5, &mean_half);
  const double on = run(1.0, &mean_on);
  std::printf(
      "measured: disagreement under constant drifts %.5f without, %.5f with s = 0.5, "
      "%.5f with s = 1\n",
      off, half, on);
  EXPECT_LT(on, 0.7 * off);
  EXPECT_LT((mean_on - mean_off).abs().max().item<double>(), 1e-3)
      << "the compensation sums to zero over the devices: the average is not moved";
}

}  // namespace
}  // namespace edgerig
