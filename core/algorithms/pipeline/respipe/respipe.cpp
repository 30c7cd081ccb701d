#include "core/algorithms/pipeline/respipe/respipe.h"

#include "core/algorithms/pipeline/common/pipeline_params.h"
#include "core/algorithms/pipeline/respipe/respipe_coordinator.h"
#include "core/algorithms/pipeline/respipe/respipe_worker.h"

namespace edgerig {

AlgorithmEntry respipeEntry() {
  AlgorithmInfo info;
  info.name = "respipe";
  info.family = "pipeline";
  info.summary =
      "pipeline whose stages keep replicas of their successors and route around a late one "
      "(deadline per micro-batch); takes a failed stage over, or with r = 0 recovers through a "
      "re-plan from the controller's checkpoint (our design after ResPipe)";
  info.fault_tolerant = true;
  info.params = pipelineParams("even");
  info.params.push_back({"redundancy",
                         "r: redundancy",
                         ParamSpec::Kind::kInt,
                         "stage k keeps replicas of stages k+1 .. k+r (0: none, no routing; the "
                         "stages checkpoint to the controller and a lost one is recovered through "
                         "a re-plan)",
                         int64_t{1},
                         0,
                         8,
                         {}});
  info.params.push_back({"refreshEvery",
                         "T: refresh every",
                         ParamSpec::Kind::kInt,
                         "iterations between copies of each stage's weights and momentum to the "
                         "r stages before it, or to the controller when r = 0 (traffic kind "
                         "replica)",
                         int64_t{10},
                         1,
                         1000000,
                         {}});
  info.params.push_back({"deadlineMs",
                         "τ: deadline (ms)",
                         ParamSpec::Kind::kInt,
                         "a micro-batch the next stage has not acknowledged by then is run on the "
                         "replica and forwarded past it (0: never route)",
                         int64_t{500},
                         0,
                         600000,
                         {}});
  info.params.push_back({"deadlineAdapt",
                         "τ adaptive: multiple",
                         ParamSpec::Kind::kDouble,
                         "0: τ is deadlineMs. Else τ is this multiple of the median time the next "
                         "stage took to acknowledge its last 16 on-time micro-batches, between "
                         "5 ms and deadlineMs (deadlineMs until 4 are measured)",
                         0.0,
                         0.0,
                         1000.0,
                         {}});
  info.params.push_back({"takeoverMisses",
                         "F: misses before take-over",
                         ParamSpec::Kind::kInt,
                         "consecutive missed deadlines after which a stage takes its successor's "
                         "layers over for good (0: never)",
                         int64_t{8},
                         0,
                         1000000,
                         {}});
  info.check = checkPipelineParams;
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<RespipeCoordinator>(ctx); },
          &RespipeStageWorker::create};
}

}  // namespace edgerig
