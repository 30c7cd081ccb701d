#include "core/algorithms/decentralized/dssync/dssync_coordinator.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/common/replica_set.h"

namespace edgerig {
namespace {

constexpr auto kSetupTimeout = std::chrono::seconds(120);
constexpr auto kStepTimeout = std::chrono::seconds(300);
constexpr int kMaxAttempts = 8;

std::string sitesText(const dssync::Sites& sites) { return dssync::describe(sites.sites); }

}  // namespace

DssyncCoordinator::DssyncCoordinator(RunContext& ctx) : ctx_(ctx) {
  schedule_.group_size = static_cast<int>(ctx_.params().getInt("groupSize"));
  schedule_.shuffle_every = ctx_.params().getInt("shuffleEvery");
  schedule_.bridge_every = ctx_.params().getInt("bridgeEvery");
  schedule_.seed = ctx_.config().seed;
  bottleneck_ratio_ = ctx_.params().getDouble("bottleneckRatio");
  fast_link_ = ctx_.params().getDouble("fastLinkMbps") * 1e6 / 8;
}

int64_t DssyncCoordinator::iterationsPerEpoch() const {
  const int64_t global = static_cast<int64_t>(setup_.ring_size()) * ctx_.config().batch_size;
  return global > 0 ? std::max<int64_t>(1, train_size_ / global) : 1;
}

Status DssyncCoordinator::setup() {
  return startOnAliveDevices(ctx_, "dssync", kMaxAttempts,
                             [this](const std::vector<int>& devices) { return start(devices); });
}

Status DssyncCoordinator::start(const std::vector<int>& devices) {
  setup_.clear_ring();
  for (int d : devices) setup_.add_ring(d);
  setup_.set_ring_epoch(setup_.ring_epoch() + 1);
  setup_.set_bucket_bytes(static_cast<int64_t>(ctx_.params().getDouble("bucketMiB") * 1024 * 1024));
  auto sizes =
      startReplicas(ctx_, devices, setup_, initial_state_, initial_momentum_, kSetupTimeout);
  if (!sizes) return sizes.status();
  train_size_ = sizes->train;
  test_size_ = sizes->test;
  sites_known_ = false;
  regroup("start");
  return Status::ok();
}

void DssyncCoordinator::regroup(const std::string& why) {
  links_seen_ = ctx_.linkProbes();
  dssync::Sites sites =
      dssync::findSites(members(), ctx_.linkBandwidths(), bottleneck_ratio_, fast_link_);
  const bool changed = !sites_known_ || sites.sites != sites_.sites;
  sites_ = std::move(sites);
  sites_known_ = true;
  if (!changed) return;
  char mbps[32];
  std::snprintf(mbps, sizeof mbps, "%.1f", sites_.threshold * 8 / 1e6);
  const std::string text = sitesText(sites_);
  std::string detail = std::to_string(sites_.sites.size()) + " site(s) " + text;
  if (sites_.threshold > 0) {
    detail += ": links at or below " + std::string(mbps) + " Mbit/s are bottlenecks";
  } else {
    detail += ": no bottleneck measured";
  }
  ctx_.event(std::string(kGroupsChanged), detail + " (" + why + ")", -1,
             {{"sites", text},
              {"site_count", std::to_string(sites_.sites.size())},
              {"threshold_mbps", mbps},
              {"reason", why}});
}

void DssyncCoordinator::publishRound(int64_t round, const dssync::RoundGroups& groups) {
  const std::string text = dssync::describe(groups.groups);
  const bool first = current_.empty();
  if (text == current_) return;  // the same groups as last round: nothing new to draw
  current_ = text;
  GraphLayout g;
  g.kind = groups.bridge ? "groups-bridge" : "groups";
  g.round = round;
  g.scheduled = !first;
  for (const auto& group : groups.groups) {
    const int n = static_cast<int>(group.size());
    for (int i = 0; i < n && n > 1; ++i) {
      if (n == 2 && i == 1) {
        g.edges.push_back(GraphEdge{group[1], group[0], 0.5});
        break;
      }
      g.edges.push_back(GraphEdge{group[static_cast<size_t>(i)],
                                  group[static_cast<size_t>((i + 1) % n)], 1.0 / n});
    }
  }
  ctx_.graphChanged(
      g, (groups.bridge ? "bridge round " : "round ") + std::to_string(round) + ": groups " + text);
}

Status DssyncCoordinator::reform(const std::string& why) {
  for (;;) {
    const std::vector<int> lost = ctx_.takeLost();
    std::vector<int> survivors;
    for (int d : members()) {
      if (ctx_.alive(d)) survivors.push_back(d);
    }
    if (survivors.empty()) return unavailable("every device of the dssync run is lost");
    const auto t0 = std::chrono::steady_clock::now();
    setup_.clear_ring();
    for (int d : survivors) setup_.add_ring(d);
    setup_.set_ring_epoch(setup_.ring_epoch() + 1);
    for (int d : survivors) ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, setup_));
    const uint32_t epoch = setup_.ring_epoch();
    auto st = awaitEach(
        ctx_, survivors,
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo()) return false;
          auto r = bodyAs<decentralized::RingReady>(m.env.algo());
          return r && r->ring_epoch() == epoch;
        },
        kSetupTimeout, "the dssync members to change");
    if (!st && st.code() == StatusCode::kUnavailable) continue;
    if (!st) return st;
    recoveredEvent(ctx_, "dssync groups", survivors, lost.size(), why, t0);
    regroup("a device was lost");
    return Status::ok();
  }
}

Result<StepResult> DssyncCoordinator::trainStep(int64_t iteration) {
  RoundTotals totals;
  bool lost_member = false;
  for (int d : ctx_.takeLost()) {
    for (int m : members()) lost_member = lost_member || m == d;
  }
  if (lost_member) {
    if (auto st = reform("before round " + std::to_string(iteration)); !st) return st;
  }
  if (ctx_.linkProbes() != links_seen_) regroup("links measured again");
  const dssync::RoundGroups groups = dssync::groupsOfRound(sites_, schedule_, iteration);
  publishRound(iteration, groups);
  std::set<int> waiting;
  for (const auto& group : groups.groups) {
    decentralized::GroupStep step;
    step.set_iteration(iteration);
    step.set_ring_epoch(setup_.ring_epoch());
    for (int d : group) step.add_group(d);
    for (int d : group) {
      ctx_.send(d, algoMessage(bridge::TrafficKind::kControl, step));
      waiting.insert(d);
    }
  }
  while (!waiting.empty()) {
    std::optional<decentralized::StepDone> done;
    auto msg = ctx_.await(
        [&](const DeviceMessage& m) {
          if (!m.env.has_algo() || !waiting.count(m.device)) return false;
          auto d = bodyAs<decentralized::StepDone>(m.env.algo());
          if (!d || d->iteration() != iteration) return false;
          done = *d;
          return true;
        },
        kStepTimeout, "round " + std::to_string(iteration));
    if (!msg && msg.status().code() != StatusCode::kUnavailable) return msg.status();
    if (!msg) {
      // A device was lost mid-round: its group's survivors keep their local step (no average
      // this round), the other groups are done; the round counts what was reported.
      if (auto st = reform("round " + std::to_string(iteration) + " interrupted"); !st) return st;
      break;
    }
    waiting.erase(msg->device);
    totals.add(msg->device, *done);
  }
  return totals.result();
}

Status DssyncCoordinator::reformIfLost(const std::string& why) {
  if (ctx_.takeLost().empty() && members().size() == ctx_.aliveDevices().size()) {
    return Status::ok();
  }
  return reform(why);
}

Result<EvalResult> DssyncCoordinator::evaluate(int64_t samples) {
  return retryWhileLost<EvalResult>(
      kMaxAttempts, "evaluation", [&] { return reformIfLost("before an evaluation"); },
      [&] {
        return evaluateModelsAndTheirAverage(ctx_, members(), samples, test_size_, eval_counter_);
      });
}

Result<wire::ModelStateBlob> DssyncCoordinator::gatherState() {
  return retryWhileLost<wire::ModelStateBlob>(
      kMaxAttempts, "gathering the model",
      [&] { return reformIfLost("while gathering the model"); },
      [&] { return gatherAverageWeights(ctx_, members()); });
}

Result<Coordinator::Handover> DssyncCoordinator::gatherHandover() {
  return retryWhileLost<Handover>(
      kMaxAttempts, "gathering the model and momentum",
      [&] { return reformIfLost("while gathering the model"); },
      [&] { return gatherAverageHandover(ctx_, members()); });
}

std::vector<int> DssyncCoordinator::members() const {
  return {setup_.ring().begin(), setup_.ring().end()};
}

std::string DssyncCoordinator::layoutDescription() const {
  return "dssync sites " + sitesText(sites_) + (current_.empty() ? "" : ", groups " + current_);
}

}  // namespace edgerig
