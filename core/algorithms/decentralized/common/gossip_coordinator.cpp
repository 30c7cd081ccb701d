#include "core/algorithms/decentralized/common/gossip_coordinator.h"

#include <algorithm>
#include <optional>
#include <set>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/common/replica_set.h"
#include "core/data/random_stream.h"
#include "core/runlog/event_kinds.h"

namespace edgerig {
namespace {

constexpr auto kSetupTimeout = std::chrono::seconds(120);
constexpr auto kStepTimeout = std::chrono::seconds(300);
// Lost devices may interrupt a round, a re-draw or an evaluation this many times in a row.
constexpr int kMaxAttempts = 8;
// The graph's random stream, apart from the data's (shards, batches) drawn from the same seed.
constexpr uint64_t kGraphStream = 0x6772617068ULL;  // "graph"

}  // namespace

void addGossipGraph(AlgorithmInfo& info, const std::string& default_kind,
                    std::vector<std::string> kinds, const std::string& help) {
  info.params.push_back(
      {"graph", "graph", ParamSpec::Kind::kChoice, help, default_kind, 0, 0, std::move(kinds)});
  info.params.push_back({"degree",
                         "degree",
                         ParamSpec::Kind::kInt,
                         "neighbours per device of a random-regular graph (devices × degree even)",
                         int64_t{3},
                         1,
                         256,
                         {}});
  info.params.push_back(
      {"redrawEvery",
       "re-draw every",
       ParamSpec::Kind::kInt,
       "rounds between re-draws of the graph from the seed (a new labelling of the devices; "
       "random-regular: a new graph); 0: never",
       int64_t{0},
       0,
       1e9,
       {}});
  info.check = [](const ExperimentConfig& c) {
    return checkGraph(GossipCoordinator::declaredGraph(c), c.numDevices());
  };
}

GossipCoordinator::GossipCoordinator(RunContext& ctx, GossipRules rules)
    : ctx_(ctx), rules_(std::move(rules)) {}

GraphSpec GossipCoordinator::declaredGraph(const ExperimentConfig& config) {
  const AlgorithmParams& p = config.algorithm.params;
  GraphSpec spec;
  spec.kind = p.getString("graph");
  spec.degree = static_cast<int>(p.getInt("degree"));
  spec.redraw_every = p.getInt("redrawEvery");
  spec.seed = mixSeed(config.seed, kGraphStream);
  return spec;
}

std::vector<int> GossipCoordinator::members() const {
  return {setup_.members().begin(), setup_.members().end()};
}

int64_t GossipCoordinator::iterationsPerEpoch() const {
  const int64_t global = static_cast<int64_t>(setup_.members_size()) * ctx_.config().batch_size;
  return global > 0 ? std::max<int64_t>(1, train_size_ / global) : 1;
}

Status GossipCoordinator::setup() {
  return startOnAliveDevices(ctx_, rules_.algorithm, kMaxAttempts,
                             [this](const std::vector<int>& devices) { return start(devices); });
}

Status GossipCoordinator::start(const std::vector<int>& devices) {
  const GraphSpec spec = declaredGraph(ctx_.config());
  if (auto st = checkGraph(spec, static_cast<int>(devices.size())); !st) return st;
  setup_.Clear();
  for (int d : devices) setup_.add_members(d);
  setup_.set_graph_epoch(1);
  setup_.set_graph(spec.kind);
  setup_.set_degree(spec.degree);
  setup_.set_redraw_every(spec.redraw_every);
  setup_.set_graph_seed(spec.seed);
  auto sizes =
      startReplicas(ctx_, devices, setup_, initial_state_, initial_momentum_, kSetupTimeout);
  if (!sizes) return sizes.status();
  train_size_ = sizes->train;
  test_size_ = sizes->test;
  announce_ = true;
  return Status::ok();
}

void GossipCoordinator::publishGraph(int64_t round, bool scheduled, const std::string& why) {
  auto g = graphAt(graphSpecOf(setup_), members(), round);
  if (!g) return;  // checked when the members were set
  const MixingWeights w = rules_.weights(*g);
  GraphLayout layout;
  layout.kind = setup_.graph();
  layout.round = round;
  layout.scheduled = scheduled;
  for (const auto& [from, tos] : g->out) {
    for (int to : tos) layout.edges.push_back(GraphEdge{from, to, w.at(to, from)});
  }
  ctx_.graphChanged(layout, why);
}

Status GossipCoordinator::regraphIfLost(const std::string& why) {
  bool lost_member = false;
  for (int d : ctx_.takeLost()) {
    for (int m : setup_.members()) lost_member = lost_member || m == d;
  }
  bool dead_member = false;
  for (int m : setup_.members()) dead_member = dead_member || !ctx_.alive(m);
  return lost_member || dead_member ? regraph(why) : Status::ok();
}

Status GossipCoordinator::regraph(const std::string& why) {
  for (;;) {
    ctx_.takeLost();  // every loss so far is handled here
    std::vector<int> survivors;
    for (int d : setup_.members()) {
      if (ctx_.alive(d)) survivors.push_back(d);
    }
    const size_t lost = static_cast<size_t>(setup_.members_size()) - survivors.size();
    if (survivors.empty())
      return unavailable("every device of the " + rules_.algorithm + " graph is lost");
    const auto t0 = std::chrono::steady_clock::now();
    setup_.clear_members();
    for (int d : survivors) setup_.add_members(d);
    setup_.set_graph_epoch(setup_.graph_epoch() + 1);
    if (auto st = checkGraph(graphSpecOf(setup_), static_cast<int>(survivors.size())); !st) {
      // Fewer devices than the declared degree needs: the largest degree that still exists.
      setup_.set_degree(regularDegree(setup_.degree(), static_cast<int>(survivors.size())));
    }
    for (int d : survivors) ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, setup_));
    const uint32_t epoch = setup_.graph_epoch();
    auto st = awaitEach(
        ctx_, survivors,
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo()) return false;
          auto r = bodyAs<decentralized::GossipReady>(m.env.algo());
          return r && r->graph_epoch() == epoch;
        },
        kSetupTimeout, "the " + rules_.algorithm + " graph to re-form");
    if (!st && st.code() == StatusCode::kUnavailable) continue;  // another loss: again
    if (!st) return st;
    recoveredEvent(ctx_, rules_.algorithm + " graph re-drawn", survivors, lost, why, t0);
    announce_ = true;
    return Status::ok();
  }
}

Result<StepResult> GossipCoordinator::trainStep(int64_t iteration) {
  const std::string round = "iteration " + std::to_string(iteration);
  if (auto st = regraphIfLost("before " + round); !st) return st;
  const int n = setup_.members_size();
  if (announce_) {
    publishGraph(iteration, /*scheduled=*/false, describeGraph(graphSpecOf(setup_), n));
    announce_ = false;
  } else if (graphChangesAt(graphSpecOf(setup_), n, iteration)) {
    publishGraph(iteration, /*scheduled=*/true, "round " + std::to_string(iteration));
  }
  beginRound(iteration);
  for (int d : members()) {
    decentralized::GossipStep step;
    step.set_iteration(iteration);
    step.set_graph_epoch(setup_.graph_epoch());
    prepareStep(d, step);
    ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, step));
  }

  RoundTotals totals;
  std::set<int> waiting(setup_.members().begin(), setup_.members().end());
  for (int interruptions = 0; !waiting.empty();) {
    std::optional<decentralized::GossipDone> done;
    auto msg = ctx_.await(
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo() || !waiting.count(m.device)) return false;
          auto d = bodyAs<decentralized::GossipDone>(m.env.algo());
          if (!d || d->iteration() != iteration) return false;
          done = *d;
          return true;
        },
        kStepTimeout, round);
    if (!msg) {
      if (msg.status().code() != StatusCode::kUnavailable || ++interruptions > kMaxAttempts) {
        return msg.status();
      }
      // A device was lost mid-round: the survivors end this round with what they received and
      // go on over the graph drawn again without it.
      if (auto st = regraph(round + " interrupted"); !st) return st;
      std::set<int> still;
      for (int d : waiting) {
        if (ctx_.alive(d)) still.insert(d);
      }
      waiting = std::move(still);
      continue;
    }
    waiting.erase(msg->device);
    totals.add(msg->device, *done);
    if (rules_.push_sum) ctx_.metric("push_weight", done->weight(), msg->device);
    if (done->sent_bytes() > 0) {  // a compressing algorithm: dense bytes / bytes sent
      ctx_.metric(
          "compression_ratio",
          static_cast<double>(done->dense_bytes()) / static_cast<double>(done->sent_bytes()),
          msg->device);
    }
  }
  StepResult result = totals.result();
  roundDone(iteration, result);
  return result;
}

Result<EvalResult> GossipCoordinator::evaluate(int64_t samples) {
  return retryWhileLost<EvalResult>(
      kMaxAttempts, "evaluation", [&] { return regraphIfLost("before an evaluation"); },
      [&] {
        return evaluateModelsAndTheirAverage(ctx_, members(), samples, test_size_, eval_counter_);
      });
}

Result<wire::ModelStateBlob> GossipCoordinator::gatherState() {
  return retryWhileLost<wire::ModelStateBlob>(
      kMaxAttempts, "gathering the model",
      [&] { return regraphIfLost("while gathering the model"); },
      [&] { return gatherAverageWeights(ctx_, members()); });
}

Result<Coordinator::Handover> GossipCoordinator::gatherHandover() {
  return retryWhileLost<Handover>(
      kMaxAttempts, "gathering the model and momentum",
      [&] { return regraphIfLost("while gathering the model"); },
      [&] { return gatherAverageHandover(ctx_, members()); });
}

std::string GossipCoordinator::layoutDescription() const {
  std::string s = describeGraph(graphSpecOf(setup_), setup_.members_size()) + ":";
  for (int d : setup_.members()) s.append(" ").append(ctx_.deviceName(d));
  return s;
}

}  // namespace edgerig
