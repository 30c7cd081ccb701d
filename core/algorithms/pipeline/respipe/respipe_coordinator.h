// The controller side of `respipe` (our design, docs/design.md): gpipe's synchronous pipeline
// (common/PipelineCoordinator) whose stages route around a late successor on their own. An
// iteration ends when every stage has flushed, except a stage that was routed around in it (its
// predecessor says so): that one catches up by itself, and evaluation and gathering wait for it.
// A stage that took its successor over (TakeOver) shrinks the plan here, with an event, without
// a round trip. Per device and iteration it writes the routed-around micro-batches per second.
// A middle stage lost in a way routing cannot cover (it died holding micro-batches it had already
// acknowledged, whose gradients its predecessor then waits for) is taken over by the controller:
// the pipeline restarts on the stages left, the lost layers on the predecessor, from its replica.
// With r = 0 nothing is routed: every stage checkpoints its weights and momentum to the
// controller every T iterations, and a lost stage (any, the first and last too) is recovered
// through a re-plan over the survivors, rolled back to the newest whole checkpoint and replayed
// (respipe_replan.cpp).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "core/algorithms/pipeline/common/pipeline_coordinator.h"
#include "pipeline.pb.h"

namespace edgerig {

class RespipeCoordinator : public PipelineCoordinator {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RespipeCoordinator(RunContext& ctx) : PipelineCoordinator(ctx) {}

  Status setup() override;
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  Result<wire::ModelStateBlob> gatherState() override;
  Result<Handover> gatherHandover() override;

 private:
  // r = 0: a stage lost while the pipeline starts is recovered from like any other.
  Status lostDevice(const Status& lost) override {
    return redundancy_ == 0 ? lost : PipelineCoordinator::lostDevice(lost);
  }
  // The stages as the workers number them (the plan they started with); a taken stage is merged.
  int originalStages() const { return static_cast<int>(start_devices_.size()); }
  bool active(int stage) const { return !merged_.count(stage); }
  void applyTakeOver(const pipeline::TakeOver& t, int64_t iteration);
  // Waits (bounded) until every active stage has flushed every iteration run so far: a stage
  // routed around catches up by itself, and its weights are read only after.
  Status catchUp();
  // A lost device: taken, and the run goes on if its stage can be routed around.
  Status takeLost();
  // One attempt at the iteration. `stalled` is set when a stage was lost and the iteration did
  // not end within routeGrace() of it: routing cannot finish it, the controller must take over.
  Result<StepResult> runStep(int64_t iteration, std::optional<Clock::time_point>& stalled);
  // The controller's take-over: every lost stage's layers go to the living stage before it, from
  // that stage's replica (weights and momentum), the survivors keep theirs, and the pipeline
  // restarts on them (a new generation). Every stage then counts as flushed through
  // `done_through`. Fails, naming why, when a lost stage has no living predecessor holding a
  // replica of it.
  Status recoverLost(int64_t done_through, Clock::time_point lost_at, const std::string& reason);
  Status recoverOnce(int64_t done_through, Clock::time_point lost_at, const std::string& reason);
  // How long after a loss an iteration may still end by routing around the lost stage.
  std::chrono::milliseconds routeGrace() const;
  Result<EvalResult> evaluateOnce(int64_t samples);

  // r = 0 (respipe_replan.cpp). The model after `mini_batches` mini-batches, as the stages sent it.
  struct Checkpoint {
    ModelState weights;
    ModelState momentum;
    std::set<std::string> layers;
  };
  int64_t dataIteration(int64_t iteration) const { return iteration - replay_offset_; }
  // Keys the starting model by the data iteration `iteration` runs, once (a restart's coordinator
  // starts mid-run).
  void keyStartCheckpoint(int64_t iteration);
  // Stores the checkpoints that arrived (never waits) and forgets those older than the newest
  // whole one.
  void storeCheckpoints();
  // The newest checkpoint that holds every layer: its key and itself.
  const std::pair<const int64_t, Checkpoint>* newestWholeCheckpoint() const;
  // Three phases, as ftpipehd's: re-plan over the living stages (the experiment's plan kind),
  // take every layer from the newest whole checkpoint, restart the survivors from it and replay
  // the mini-batches since. `iteration` is the controller iteration to run next; the loss was
  // seen now, `interrupted` is when the interrupted work started.
  Status recoverByReplan(int64_t iteration, Clock::time_point interrupted);
  Status replanOnce(int64_t iteration, Clock::time_point detected, double detection,
                    Clock::time_point attempt);
  Result<StagePlan> planOver(const std::vector<int>& devices);

  StagePlan start_plan_;
  std::vector<int> start_devices_;
  std::set<int> merged_;                   // stages taken over by their predecessor
  std::map<int, Clock::time_point> lost_;  // stages lost, not yet taken over: when it was seen
  std::map<int, int64_t> flushed_;         // per stage: the newest training iteration flushed
  std::map<int, int64_t> routed_total_;    // per device
  std::map<int, int64_t> discarded_total_;
  std::map<int, int64_t> skipped_total_;  // forwards not computed: routed around already
  std::map<int, int> bypassing_;          // stage -> the stage it bypasses (0: none)
  // A stage's StepDone says whom it bypasses: an event when that changes.
  void noteBypass(int stage, int device, int bypassing, int deadline_ms, int64_t iteration);
  int64_t last_iteration_ = -1;
  int redundancy_ = 1;
  bool routing_ = true;  // a deadline is set: stages route around late successors
  // r = 0: lost devices waiting for the re-plan recovery; the checkpoints by mini-batches done
  // (data iterations); the starting model until its key is known; iterations replayed so far.
  std::set<int> replan_lost_;
  std::map<int64_t, Checkpoint> checkpoints_;
  std::optional<Checkpoint> start_checkpoint_;
  int64_t replay_offset_ = 0;
};

}  // namespace edgerig
