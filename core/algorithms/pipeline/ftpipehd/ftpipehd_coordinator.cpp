#include "core/algorithms/pipeline/ftpipehd/ftpipehd_coordinator.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "core/algorithms/algo_message.h"
#include "core/runlog/event_kinds.h"
#include "pipeline.pb.h"

namespace edgerig {
namespace {

constexpr auto kMigrationTimeout = std::chrono::seconds(60);

template <typename T>
std::optional<T> bodyIn(const DeviceMessage& m) {
  if (!m.env.has_algo() || !bodyIs<T>(m.env.algo())) return std::nullopt;
  auto body = bodyAs<T>(m.env.algo());
  if (!body) return std::nullopt;
  return *body;
}

std::string joined(const std::vector<double>& v) {
  std::string out;
  char buf[32];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, "%.4g", x);
    out += (out.empty() ? "" : " ") + std::string(buf);
  }
  return out;
}

std::string joined(const std::vector<int>& v) {
  std::string out;
  for (int x : v) out += (out.empty() ? "" : " ") + std::to_string(x);
  return out;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

Status FtpipehdCoordinator::setup() {
  replan_every_ = ctx_.params().getInt("replanEvery");
  replan_gain_ = ctx_.params().getDouble("replanGain");
  if (const int64_t deadline = ctx_.params().getInt("deadlineMs"); deadline > 0) {
    step_timeout_ = std::chrono::milliseconds(deadline);
  }
  if (auto st = PipelineCoordinator::setup(); !st) return st;
  window_.reset(numStages());
  return Status::ok();
}

Result<StepResult> FtpipehdCoordinator::trainStep(int64_t iteration) {
  if (replan_every_ > 0 && window_.iterations() >= replan_every_) {
    if (auto st = maybeReplan(iteration); !st) return st;
  }
  auto result = PipelineCoordinator::trainStep(iteration);
  if (!result) return result;
  std::vector<double> stage_s;
  for (const DeviceStep& d : result->devices) stage_s.push_back(d.compute_s);  // stage order
  window_.add(stage_s);
  return result;
}

Status FtpipehdCoordinator::maybeReplan(int64_t iteration) {
  const std::vector<double> measured = window_.mean();
  const int measured_over = window_.iterations();
  window_.reset(numStages());
  const std::vector<double> capacity =
      capacitiesFromStageTimes(reference_time_s_, *plan_, measured);
  const double fastest = *std::max_element(capacity.begin(), capacity.end());
  for (int s = 0; s < numStages(); ++s) ctx_.setCapacity(deviceOf(s), capacity[s] / fastest);
  auto decision = decideReplan(planInputs(capacity), *plan_, replan_gain_);
  if (!decision) return decision.status();
  ctx_.metric("predicted_gain", decision->gain);
  if (!decision->replan) return Status::ok();
  namespace f = events::fields;
  ctx_.event(std::string(events::kReplanned),
             decision->reason + " (stage times over " + std::to_string(measured_over) +
                 " iterations: " + joined(measured) + " s); moving to " +
                 decision->proposed.describe(layers_),
             -1,
             {{std::string(f::kReason), "capacities"},
              {std::string(f::kGain), seconds(decision->gain)},
              {std::string(f::kCapacities), joined(capacity)},
              {std::string(f::kCuts), joined(decision->proposed.cuts())},
              {std::string(f::kIteration), std::to_string(iteration)}});
  return migrate(decision->proposed, iteration, decision->reason);
}

Status FtpipehdCoordinator::migrate(const StagePlan& to, int64_t iteration,
                                    const std::string& why) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t id = ++migration_id_;
  const int k = numStages();
  pipeline::MigratePrepare prepare;
  prepare.set_migration(id);
  *prepare.mutable_old_boundaries() = {plan_->boundaries.begin(), plan_->boundaries.end()};
  *prepare.mutable_new_boundaries() = {to.boundaries.begin(), to.boundaries.end()};
  for (int s = 0; s < k; ++s) {
    ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, prepare));
  }
  // Phase 1: every stage has pulled what it gains and built its new slice.
  int layers_moved = 0;
  int64_t bytes_moved = 0;
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await(
        [id](const DeviceMessage& m) {
          auto p = bodyIn<pipeline::MigratePrepared>(m);
          return p && p->migration() == id;
        },
        kMigrationTimeout, "migration " + std::to_string(id) + " (prepare)");
    if (!msg) {
      abortMigration(id, iteration, msg.status().message(), started);
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : Status::ok();
    }
    const auto prepared = bodyIn<pipeline::MigratePrepared>(*msg);
    if (!prepared->ok()) {
      abortMigration(id, iteration,
                     "stage " + std::to_string(prepared->stage()) + ": " + prepared->error(),
                     started);
      return Status::ok();
    }
    layers_moved += prepared->layers_gained();
    bytes_moved += prepared->bytes_received();
  }
  // Phase 2: the decision is made; every stage switches before the next iteration starts.
  pipeline::MigrateCommit commit;
  commit.set_migration(id);
  for (int s = 0; s < k; ++s) {
    ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, commit));
  }
  for (int got = 0; got < k; ++got) {
    auto msg = ctx_.await(
        [id](const DeviceMessage& m) {
          auto c = bodyIn<pipeline::MigrateCommitted>(m);
          return c && c->migration() == id;
        },
        kMigrationTimeout, "migration " + std::to_string(id) + " (commit)");
    if (!msg) {
      return msg.status().code() == StatusCode::kUnavailable ? lostDevice(msg.status())
                                                             : msg.status();
    }
  }
  plan_ = to;
  const double took = since(started);
  ctx_.planChanged(*plan_, device_of_stage_, layers_, reference_time_s_, why);
  namespace f = events::fields;
  ctx_.event(std::string(events::kMigrated),
             std::to_string(layers_moved) + " layers (" + std::to_string(bytes_moved) +
                 " bytes of weights and momentum) moved in " + seconds(took) + " s",
             -1,
             {{std::string(f::kSeconds), seconds(took)},
              {std::string(f::kLayersMoved), std::to_string(layers_moved)},
              {std::string(f::kCuts), joined(plan_->cuts())},
              {std::string(f::kIteration), std::to_string(iteration)}});
  ctx_.metric("migration_s", took);
  return Status::ok();
}

void FtpipehdCoordinator::abortMigration(int64_t migration, int64_t iteration,
                                         const std::string& reason,
                                         std::chrono::steady_clock::time_point started) {
  pipeline::MigrateAbort abort;
  abort.set_migration(migration);
  for (int s = 0; s < numStages(); ++s) {
    if (ctx_.alive(deviceOf(s))) {
      ctx_.send(deviceOf(s), algoMessage(bridge::TrafficKind::kControl, abort));
    }
  }
  namespace f = events::fields;
  ctx_.event(std::string(events::kMigrationAborted),
             "migration " + std::to_string(migration) + " aborted, the plan stays " +
                 plan_->describe(layers_) + ": " + reason,
             -1,
             {{std::string(f::kReason), reason},
              {std::string(f::kSeconds), seconds(since(started))},
              {std::string(f::kIteration), std::to_string(iteration)}});
}

}  // namespace edgerig
