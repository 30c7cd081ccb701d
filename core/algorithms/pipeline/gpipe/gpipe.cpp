#include "core/algorithms/pipeline/gpipe/gpipe.h"

#include "core/algorithms/pipeline/common/pipeline_coordinator.h"
#include "core/algorithms/pipeline/common/pipeline_params.h"
#include "core/algorithms/pipeline/common/pipeline_stage_worker.h"

namespace edgerig {

AlgorithmEntry gpipeEntry() {
  AlgorithmInfo info;
  info.name = "gpipe";
  info.family = "pipeline";
  info.summary =
      "synchronous micro-batched pipeline, even (by count or cost) or balanced plan, stops on a "
      "lost stage";
  info.fault_tolerant = false;
  info.params = pipelineParams("even");
  info.check = checkPipelineParams;
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<PipelineCoordinator>(ctx); },
          &PipelineStageWorker::create};
}

}  // namespace edgerig
