// The controller side of `ftpipehd`: gpipe's synchronous pipeline (common/PipelineCoordinator)
// that re-measures each stage's capacity from its real compute times every `replanEvery`
// iterations, re-plans with the dynamic program when the predicted gain reaches `replanGain`,
// and migrates the layers that move in two phases at one iteration boundary. It replicates each
// stage's weights to the next stage every R_n iterations and to the controller every R_g, and
// recovers from a lost stage in three phases (ftpipehd_recovery.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <set>

#include "core/algorithms/pipeline/common/pipeline_coordinator.h"
#include "core/algorithms/pipeline/common/replica_store.h"
#include "core/algorithms/pipeline/ftpipehd/live_plan.h"

namespace edgerig {

class FtpipehdCoordinator : public PipelineCoordinator {
 public:
  explicit FtpipehdCoordinator(RunContext& ctx) : PipelineCoordinator(ctx) {}

  Status setup() override;
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  // A restarted local device is taken back here, through a re-plan that includes it: the
  // controller does not restart the algorithm. A single stage cannot be rebooted in place (its
  // weights would be gone with nothing to recover them from), so then the controller gathers.
  bool rejoinsInPlace() const override { return numStages() > 1; }
  Status deviceRejoined(int device) override;

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kMigrationTimeout = std::chrono::seconds(60);
  // Run-level metrics for the views: the controller iteration at whose boundary the newest
  // neighbour replicas (-1: none held since the stages last started or moved layers) and global
  // replicas were taken.
  static constexpr const char* kNeighbourReplicaIteration = "neighbour_replica_iteration";
  static constexpr const char* kGlobalReplicaIteration = "global_replica_iteration";
  // A lost stage is not the run's end: the error goes back to trainStep, which recovers.
  Status lostDevice(const Status& lost) override { return lost; }
  // At an iteration boundary, once `replanEvery` iterations were measured.
  Status maybeReplan(int64_t iteration, const std::string& trigger);
  // Prepare on every stage, then commit; a failed prepare aborts and the old plan stays (ok is
  // returned: training goes on). A lost device is the run's error until recovery exists.
  Status migrate(const StagePlan& to, int64_t iteration, const std::string& why);
  void abortMigration(int64_t migration, int64_t iteration, const std::string& reason,
                      std::chrono::steady_clock::time_point started);

  // After the flush of `data_done` mini-batches, at the controller's iteration boundary
  // `boundary`: Replicate to every stage when R_n or R_g is due.
  void replicateIfDue(int64_t data_done, int64_t boundary);
  // Stores the replicas sent to the controller since the last call (waits at most `timeout`
  // for each one still expected).
  Status collectReplicas(std::chrono::milliseconds timeout);
  // Three phases: drop the lost stages and re-plan over the survivors; gather the lost layers
  // from the next stage's neighbour replica, else the controller's copy, and the survivors' own
  // as they were at the oldest replica used (as they are, if they kept none of then); start the
  // survivors on the new plan and resume from that replica's mini-batch.
  Status recover(std::vector<int> lost, int64_t iteration, Clock::time_point interrupted);
  // (ftpipehd_recovery.cpp) One attempt, started at `attempt`; the loss was seen at `detected`,
  // `detection` s after the interruption (the recovered event's times count from there, over every
  // attempt).
  Status recoverOnce(const std::vector<int>& lost, int64_t iteration, Clock::time_point detected,
                     double detection, Clock::time_point attempt);
  // `devices`' own weights and momentum as they replicated them after mini-batch `at`
  // (FetchSnapshot), added to `weights` and `momentum`; false when one of them kept none of then.
  Result<bool> fetchSnapshots(const std::vector<int>& devices, int64_t at, ModelState& weights,
                              ModelState& momentum);
  // After a missed deadline: the stages' devices that do not answer a probe (now dropped).
  std::vector<int> unresponsiveStages();
  // One device's capacity from a fresh layer profile (T_ref over its own times), as the
  // starting plan measured every device.
  Result<double> profileCapacity(int device);
  // Gathers the stages' weights and momentum, re-plans over them and `device`, and starts the
  // new pipeline from the gathered model (no iteration is retrained).
  Status rejoin(int device, Clock::time_point started);
  int64_t dataIteration(int64_t iteration) const { return iteration - replay_offset_; }
  // Not lost and not dropped for a missed deadline.
  bool usable(int device) const { return ctx_.alive(device) && !dropped_.count(device); }

  int64_t replan_every_ = 0;
  // The first measurement comes after kEarlyMeasurement iterations, not replanEvery (our design):
  // the starting plan rests on the profile, layers timed alone, which misjudged real stage times
  // by 2x and more (docs/design.md ftpipehd 2).
  static constexpr int64_t kEarlyMeasurement = 5;
  bool early_measured_ = false;
  // RunContext::linkProbes() when the plan was last checked: a re-probe (a link changed) makes
  // the next boundary check the plan too, not only every replanEvery iterations.
  int64_t links_seen_ = 0;
  double replan_gain_ = 1;
  StageTimeWindow window_;
  int64_t migration_id_ = 0;
  int64_t replicate_neighbour_every_ = 0;
  int64_t replicate_global_every_ = 0;
  // The controller's copies: the last stage's neighbour replica, the global replicas, and the
  // initial model (iteration 0), newest per layer.
  ReplicaStore controller_replicas_;
  int replicas_expected_ = 0;
  int64_t replay_offset_ = 0;          // iterations replayed after recoveries
  int64_t next_iteration_ = 0;         // the iteration trainStep runs next
  std::vector<double> last_capacity_;  // per device, as last measured (the profile's until then)
  // The plan the last re-plan moved away from, and the stage order it was over (decideReplan).
  std::optional<StagePlan> left_plan_;
  std::vector<int> left_devices_;
  std::set<int> dropped_;  // devices that missed the backward deadline
  int rebooted_ = -1;      // a stage restarted in place, while it is recovered from
  int64_t probe_id_ = 0;
};

}  // namespace edgerig
