// The controller side of `respipe` (our design, docs/design.md): gpipe's synchronous pipeline
// (common/PipelineCoordinator) whose stages route around a late successor on their own. An
// iteration ends when every stage has flushed, except a stage that was routed around in it (its
// predecessor says so): that one catches up by itself, and evaluation and gathering wait for it.
// A stage that took its successor over (TakeOver) shrinks the plan here, with an event, without
// a round trip. Per device and iteration it writes the routed-around micro-batches per second.
#pragma once

#include <map>
#include <set>

#include "core/algorithms/pipeline/common/pipeline_coordinator.h"
#include "pipeline.pb.h"

namespace edgerig {

class RespipeCoordinator : public PipelineCoordinator {
 public:
  explicit RespipeCoordinator(RunContext& ctx) : PipelineCoordinator(ctx) {}

  Status setup() override;
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  Result<wire::ModelStateBlob> gatherState() override;

 private:
  // The stages as the workers number them (the plan they started with); a taken stage is merged.
  int originalStages() const { return static_cast<int>(start_devices_.size()); }
  bool active(int stage) const { return !merged_.count(stage); }
  void applyTakeOver(const pipeline::TakeOver& t, int64_t iteration);
  // Waits (bounded) until every active stage has flushed every iteration run so far: a stage
  // routed around catches up by itself, and its weights are read only after.
  Status catchUp();
  // A lost device: taken, and the run goes on if its stage can be routed around.
  Status takeLost();

  StagePlan start_plan_;
  std::vector<int> start_devices_;
  std::set<int> merged_;                 // stages taken over by their predecessor
  std::map<int, int64_t> flushed_;       // per stage: the newest training iteration flushed
  std::map<int, int64_t> routed_total_;  // per device
  std::map<int, int64_t> discarded_total_;
  int64_t last_iteration_ = -1;
  int redundancy_ = 1;
  bool routing_ = true;  // a deadline is set: stages route around late successors
};

}  // namespace edgerig
