// dpsgd and sgp on real agent processes. On a complete graph without momentum both equal
// allreduce (every device averages everyone's step at once), loss for loss, and the devices'
// averaged model scores what they do; on sparse graphs four agents reach a sane accuracy with the
// devices' models close together (and their averaged model too), graph.csv holds
// every round's graph as the issue describes it (SGP's one-peer graph rotating through its
// reference code's peers; a re-drawn graph at its period only), the gossip bytes on the wire
// are one model per out-neighbour per round, and a device killed during sgp leaves a run that
// finishes over the survivors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/controller/controller.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "tests/support/agent_runs.h"

namespace edgerig {
namespace {

ExperimentConfig gossipRun(const std::string& algorithm, const std::string& graph, int devices,
                           int iterations) {
  ExperimentConfig c = testsupport::smallRun(algorithm, devices, iterations);
  c.algorithm.params.set("graph", graph);
  c.algorithm.params.set("degree", int64_t{3});
  c.algorithm.params.set("redrawEvery", int64_t{0});
  return c;
}

using testsupport::AgentRun;
using testsupport::countEvents;
using testsupport::lastByDevice;
using testsupport::parameterCount;
using testsupport::runLevel;

// graph.csv's edges by round: "dev0>dev1" → weight.
std::map<int64_t, std::map<std::string, double>> graphRounds(const RunData& data) {
  std::map<int64_t, std::map<std::string, double>> out;
  for (const auto& g : data.graph) out[g.round][g.from + ">" + g.to] = g.weight;
  return out;
}

TEST(Gossip, OnACompleteGraphWithoutMomentumBothEqualAllreduce) {
  torch::set_num_threads(1);
  constexpr int kSteps = 15;
  auto plain = [&](const std::string& algorithm) {
    ExperimentConfig c = gossipRun(algorithm, "complete", 3, kSteps);
    if (algorithm == "allreduce") c.algorithm.params = {};
    c.momentum = 0;  // with momentum, averaging models is not averaging gradients
    c.eval_every = 0;
    return c;
  };
  const AgentRun reference = testsupport::runAgents(plain("allreduce"), "complete-allreduce");
  ASSERT_TRUE(reference.summary.ok) << reference.summary.error;
  ASSERT_EQ(reference.losses.size(), static_cast<size_t>(kSteps));
  EXPECT_LT(reference.losses.back(), reference.losses.front());
  for (const std::string algorithm : {"dpsgd", "sgp"}) {
    SCOPED_TRACE(algorithm);
    const AgentRun r = testsupport::runAgents(plain(algorithm), "complete-" + algorithm);
    ASSERT_TRUE(r.summary.ok) << r.summary.error;
    ASSERT_EQ(r.losses.size(), static_cast<size_t>(kSteps));
    double worst = 0;
    for (int it = 0; it < kSteps; ++it) {
      worst = std::max(worst, std::abs(r.losses[it] - reference.losses[it]));
      EXPECT_NEAR(r.losses[it], reference.losses[it], 1e-4) << "iteration " << it;
    }
    std::printf("measured: %s on a complete graph vs allreduce, largest loss difference %.2e\n",
                algorithm.c_str(), worst);
    // The devices' models agree here, so their averaged model (evaluated at the end, on the
    // whole test split) scores what they score.
    const auto averaged = runLevel(r.data, "averaged_model_accuracy");
    ASSERT_EQ(averaged.size(), 1u) << "the final evaluation only";
    EXPECT_NEAR(averaged.back(), r.summary.test_accuracy, 0.005);
    // Every weight of the complete graph on 3 devices is 1/3, either way.
    const auto rounds = graphRounds(r.data);
    ASSERT_EQ(rounds.size(), 1u) << "a static graph is written once";
    EXPECT_EQ(rounds.begin()->second.size(), 6u);
    for (const auto& [edge, w] : rounds.begin()->second) EXPECT_NEAR(w, 1.0 / 3, 1e-12) << edge;
  }
}

TEST(Gossip, FourAgentsReachASaneAccuracy) {
  torch::set_num_threads(1);
  constexpr int kSteps = 60;
  const int64_t params = parameterCount("mlp", 5);
  for (const auto& [algorithm, graph] : std::vector<std::pair<std::string, std::string>>{
           {"dpsgd", "ring"}, {"sgp", "onepeer-exponential"}}) {
    SCOPED_TRACE(algorithm);
    const AgentRun r =
        testsupport::runAgents(gossipRun(algorithm, graph, 4, kSteps), "sane-" + algorithm);
    ASSERT_TRUE(r.summary.ok) << r.summary.error;
    EXPECT_EQ(r.summary.iterations, kSteps);
    // Measured: see the printout; a model that does not learn stays near 0.1.
    EXPECT_GT(r.summary.test_accuracy, 0.6);
    const auto per_device = lastByDevice(r.data, "test_accuracy");
    ASSERT_EQ(per_device.size(), 4u);
    for (const auto& [device, acc] : per_device) {
      EXPECT_NEAR(acc, r.summary.test_accuracy, 0.15) << device << ": the models agree";
    }
    const auto distance = runLevel(r.data, "consensus_distance");
    EXPECT_EQ(distance.size(), static_cast<size_t>(kSteps / 20)) << "one per evaluation";
    for (double d : distance) EXPECT_TRUE(d > 0 && d < 10) << d;
    // The devices' averaged model, at every evaluation: as sane as the models it averages.
    const auto averaged = runLevel(r.data, "averaged_model_accuracy");
    ASSERT_EQ(averaged.size(), distance.size());
    EXPECT_GT(averaged.back(), 0.6);
    EXPECT_EQ(r.summary.averaged_model_accuracy, averaged.back()) << "the run's summary says it";
    std::printf("measured: %s, test accuracy %.3f, averaged model %.3f, consensus distance",
                algorithm.c_str(), r.summary.test_accuracy, averaged.back());
    for (double d : distance) std::printf(" %.4f", d);
    std::printf("\n");

    // One graph_changed event for the run, however often the graph rotates.
    EXPECT_EQ(countEvents(r.data, events::kGraphChanged), 1);
    const auto rounds = graphRounds(r.data);
    int out_degree = 0;
    if (algorithm == "dpsgd") {
      ASSERT_EQ(rounds.size(), 1u);
      const std::map<std::string, double> ring = {{"dev0>dev1", 1.0 / 3}, {"dev0>dev3", 1.0 / 3},
                                                  {"dev1>dev0", 1.0 / 3}, {"dev1>dev2", 1.0 / 3},
                                                  {"dev2>dev1", 1.0 / 3}, {"dev2>dev3", 1.0 / 3},
                                                  {"dev3>dev0", 1.0 / 3}, {"dev3>dev2", 1.0 / 3}};
      for (const auto& [edge, w] : rounds.at(0)) EXPECT_NEAR(w, ring.at(edge), 1e-12) << edge;
      EXPECT_EQ(rounds.at(0).size(), ring.size());
      out_degree = 2;
    } else {
      // SGP's phone book for 4 devices: +1, −1, +2; one peer per round, weight 1/2.
      ASSERT_EQ(rounds.size(), static_cast<size_t>(kSteps)) << "every round is written";
      const int offsets[] = {1, 3, 2};
      for (const auto& [round, edges] : rounds) {
        std::map<std::string, double> expected;
        for (int i = 0; i < 4; ++i) {
          expected["dev" + std::to_string(i) + ">dev" +
                   std::to_string((i + offsets[round % 3]) % 4)] = 0.5;
        }
        EXPECT_EQ(edges, expected) << "round " << round;
      }
      out_degree = 1;
      // Every device keeps its push-sum weight at 1 on this regular graph.
      for (const auto& [device, u] : lastByDevice(r.data, "push_weight")) {
        EXPECT_NEAR(u, 1.0, 1e-9) << device;
      }
    }
    // What crossed the wire as gossip: one model of float32 per out-neighbour per round, and
    // framing. Measured: 1.0002× the payload.
    const double payload = static_cast<double>(kSteps) * out_degree * params * 4;
    for (const auto& [device, bytes] : lastByDevice(r.data, "bytes_sent_gossip")) {
      EXPECT_GE(bytes, payload) << device;
      EXPECT_LT(bytes, 1.01 * payload) << device;
      std::printf("measured: %s %s sent %.0f gossip bytes, %.4f× the payload\n", algorithm.c_str(),
                  device.c_str(), bytes, bytes / payload);
    }
    EXPECT_EQ(lastByDevice(r.data, "bytes_sent_gossip").size(), 4u);
  }
}

TEST(Gossip, ARedrawnGraphIsWrittenWhenItChanges) {
  torch::set_num_threads(1);
  ExperimentConfig c = gossipRun("dpsgd", "ring", 4, 12);
  c.algorithm.params.set("redrawEvery", int64_t{4});
  c.eval_every = 0;
  const AgentRun r = testsupport::runAgents(c, "redraw");
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  const auto rounds = graphRounds(r.data);
  std::vector<int64_t> written;
  std::set<std::map<std::string, double>> distinct;
  for (const auto& [round, edges] : rounds) {
    written.push_back(round);
    distinct.insert(edges);
    // Each draw is a ring of the four devices: every device has two neighbours, weights 1/3.
    std::map<std::string, int> degree;
    for (const auto& [edge, w] : edges) {
      EXPECT_NEAR(w, 1.0 / 3, 1e-12) << edge;
      ++degree[edge.substr(0, edge.find('>'))];
    }
    EXPECT_EQ(degree.size(), 4u);
    for (const auto& [device, d] : degree) EXPECT_EQ(d, 2) << device << " in round " << round;
  }
  EXPECT_EQ(written, (std::vector<int64_t>{0, 4, 8})) << "written when it changes, and only then";
  EXPECT_GE(distinct.size(), 2u) << "the seed draws other rings";
  EXPECT_EQ(countEvents(r.data, events::kGraphChanged), 1) << "re-draws were announced";
}

TEST(Gossip, ADeviceKilledDuringSgpLeavesARunThatFinishes) {
  torch::set_num_threads(1);
  ExperimentConfig c = gossipRun("sgp", "onepeer-exponential", 4, 40);
  FaultConfig crash;
  crash.device = 1;
  crash.kind = "crash";
  crash.at_iteration = 10;
  c.faults.push_back(crash);
  ControllerOptions opts;
  opts.heartbeat_interval = std::chrono::milliseconds(200);
  opts.loss_timeout = std::chrono::milliseconds(1000);
  const AgentRun r = testsupport::runAgents(c, "sgp-kill", opts);
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  EXPECT_EQ(r.summary.iterations, 40);
  EXPECT_EQ(r.losses.size(), 40u);
  const RunEvent* recovered = nullptr;
  for (const auto& e : r.data.events) {
    if (e.kind == events::kRecovered && !recovered) recovered = &e;
  }
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(recovered->field(events::fields::kDevices), "dev0, dev2, dev3");
  EXPECT_EQ(countEvents(r.data, events::kGraphChanged), 2) << "the first graph, the survivors'";
  // After the loss, graph.csv holds the one-peer graph of the three survivors: SGP's peers for
  // 3 devices are +1, −1 (= +2); dev1 is in no edge.
  ASSERT_FALSE(r.data.graph.empty());
  const auto last = r.data.graph.back();
  std::set<std::string> last_round;
  for (const auto& g : r.data.graph) {
    if (g.round == last.round) last_round.insert(g.from + ">" + g.to);
    if (g.round > 12) {
      EXPECT_NE(g.from, "dev1");
      EXPECT_NE(g.to, "dev1");
    }
  }
  const std::set<std::string> plus_one = {"dev0>dev2", "dev2>dev3", "dev3>dev0"};
  const std::set<std::string> plus_two = {"dev0>dev3", "dev2>dev0", "dev3>dev2"};
  EXPECT_TRUE(last_round == plus_one || last_round == plus_two) << last.round;
  for (const auto& m : r.data.metrics) {
    if (m.metric == "step_compute_s" && m.device == "dev1") {
      EXPECT_LE(m.iteration, 11);
    }
  }
  // Push-sum loses no mass that reaches a survivor, late shares included. dev1 is killed
  // (SIGKILL) at the boundary before round 10, so it takes no part in it, and the loss is
  // noticed while round 10 waits: of that round only dev2's share, pushed to dev1 (peers at −1
  // hop in round 10 of SGP's cycle +1, −1, +2), is lost, and from a few rounds on the
  // survivors' weights sum to 3 − 1/2 and stay there (metrics.csv keeps 8 digits). Measured:
  // 2.5; with late shares dropped 1.5; with the weight reset to 1 every round (plain gossip) 3.
  std::map<int64_t, double> weight_sum;
  for (const auto& m : r.data.metrics) {
    if (m.metric == "push_weight" && m.iteration > recovered->iteration + 2) {
      weight_sum[m.iteration] += m.value;
    }
  }
  ASSERT_FALSE(weight_sum.empty());
  EXPECT_EQ(recovered->iteration, 10);
  const double total = weight_sum.begin()->second;
  EXPECT_NEAR(total, 2.5, 1e-6);
  for (const auto& [it, sum] : weight_sum) EXPECT_NEAR(sum, total, 1e-6) << "iteration " << it;
  const auto per_device = lastByDevice(r.data, "test_accuracy");
  EXPECT_EQ(per_device.count("dev1"), 0u) << "the final evaluation is the survivors'";
  EXPECT_GT(r.summary.test_accuracy, 0.5) << "training went on";
}

// dpsgd drops a lost device too: the ring of four becomes the ring (a triangle) of the three
// survivors, each weight 1/3, and the run goes on.
TEST(Gossip, ADeviceKilledDuringDpsgdLeavesARunThatFinishes) {
  torch::set_num_threads(1);
  ExperimentConfig c = gossipRun("dpsgd", "ring", 4, 30);
  FaultConfig crash;
  crash.device = 2;
  crash.kind = "crash";
  crash.at_iteration = 8;
  c.faults.push_back(crash);
  ControllerOptions opts;
  opts.heartbeat_interval = std::chrono::milliseconds(200);
  opts.loss_timeout = std::chrono::milliseconds(1000);
  const AgentRun r = testsupport::runAgents(c, "dpsgd-kill", opts);
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  EXPECT_EQ(r.summary.iterations, 30);
  EXPECT_EQ(countEvents(r.data, events::kRecovered), 1);
  const auto rounds = graphRounds(r.data);
  ASSERT_EQ(rounds.size(), 2u) << "the ring of four, then the survivors'";
  const std::map<std::string, double> triangle = {{"dev0>dev1", 1.0 / 3}, {"dev0>dev3", 1.0 / 3},
                                                  {"dev1>dev0", 1.0 / 3}, {"dev1>dev3", 1.0 / 3},
                                                  {"dev3>dev0", 1.0 / 3}, {"dev3>dev1", 1.0 / 3}};
  const auto& last = rounds.rbegin()->second;
  ASSERT_EQ(last.size(), triangle.size());
  for (const auto& [edge, w] : last) EXPECT_NEAR(w, triangle.at(edge), 1e-12) << edge;
  EXPECT_GT(r.summary.test_accuracy, 0.5) << "training went on";
}

}  // namespace
}  // namespace edgerig
