#include "core/algorithms/pipeline/ftpipehd/ftpipehd.h"

#include "core/algorithms/pipeline/common/pipeline_params.h"
#include "core/algorithms/pipeline/ftpipehd/ftpipehd_coordinator.h"
#include "core/algorithms/pipeline/ftpipehd/ftpipehd_worker.h"

namespace edgerig {

AlgorithmEntry ftpipehdEntry() {
  AlgorithmInfo info;
  info.name = "ftpipehd";
  info.family = "pipeline";
  info.summary =
      "pipeline re-planned to live device capacities (dynamic program), layers migrated in two "
      "phases; weights replicated, a lost stage recovered in three phases";
  info.fault_tolerant = true;
  info.params = pipelineParams("balanced");
  info.params.push_back({"replanEvery",
                         "re-plan every",
                         ParamSpec::Kind::kInt,
                         "iterations between capacity measurements from the stages' compute "
                         "times (the first after 5); each may re-plan (0: never re-plan)",
                         int64_t{20},
                         0,
                         1000000,
                         {}});
  info.params.push_back({"replanGain",
                         "re-plan gain",
                         ParamSpec::Kind::kDouble,
                         "re-plan only when the new plan's predicted bottleneck is this many "
                         "times shorter",
                         1.2,
                         1.0,
                         100.0,
                         {}});
  info.params.push_back({"replicateNeighbourEvery",
                         "neighbour replica every",
                         ParamSpec::Kind::kInt,
                         "iterations between copies of each stage's weights to the next stage "
                         "(the last stage's to the controller); 0: never",
                         int64_t{100},
                         0,
                         1000000,
                         {}});
  info.params.push_back({"replicateGlobalEvery",
                         "global replica every",
                         ParamSpec::Kind::kInt,
                         "iterations between copies of every stage's weights to the controller; "
                         "0: never",
                         int64_t{200},
                         0,
                         1000000,
                         {}});
  info.params.push_back({"deadlineMs",
                         "iteration deadline (ms)",
                         ParamSpec::Kind::kInt,
                         "an iteration whose backward pass is not back by then fails the run "
                         "(0: 300 s)",
                         int64_t{60000},
                         0,
                         3600000,
                         {}});
  info.check = checkPipelineParams;
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<FtpipehdCoordinator>(ctx); },
          &FtpipehdStageWorker::create};
}

}  // namespace edgerig
