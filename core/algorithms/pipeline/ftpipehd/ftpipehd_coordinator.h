// The controller side of `ftpipehd`: gpipe's synchronous pipeline (common/PipelineCoordinator)
// that re-measures each stage's capacity from its real compute times every `replanEvery`
// iterations, re-plans with the dynamic program when the predicted gain reaches `replanGain`,
// and migrates the layers that move in two phases at one iteration boundary.
#pragma once

#include <chrono>

#include "core/algorithms/pipeline/common/pipeline_coordinator.h"
#include "core/algorithms/pipeline/ftpipehd/live_plan.h"

namespace edgerig {

class FtpipehdCoordinator : public PipelineCoordinator {
 public:
  explicit FtpipehdCoordinator(RunContext& ctx) : PipelineCoordinator(ctx) {}

  Status setup() override;
  Result<StepResult> trainStep(int64_t iteration) override;

 private:
  // At an iteration boundary, once `replanEvery` iterations were measured.
  Status maybeReplan(int64_t iteration);
  // Prepare on every stage, then commit; a failed prepare aborts and the old plan stays (ok is
  // returned: training goes on). A lost device is the run's error until recovery exists.
  Status migrate(const StagePlan& to, int64_t iteration, const std::string& why);
  void abortMigration(int64_t migration, int64_t iteration, const std::string& reason,
                      std::chrono::steady_clock::time_point started);

  int64_t replan_every_ = 0;
  double replan_gain_ = 1;
  StageTimeWindow window_;
  int64_t migration_id_ = 0;
};

}  // namespace edgerig
