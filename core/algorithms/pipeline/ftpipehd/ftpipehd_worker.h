// The agent side of `ftpipehd`: a pipeline stage (common/PipelineStageWorker) that can move to
// another slice of layers at an iteration boundary. Prepare: pull the weights and momentum of
// the layers it gains from their current owners and build the new slice beside the one it
// trains. Commit: switch to it. Abort: drop it, keep training the old one. Replication: on the
// controller's word, the stage's weights go to the next stage (the neighbour replica) and/or the
// controller (the global one).
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "core/algorithms/pipeline/common/pipeline_stage_worker.h"
#include "core/algorithms/pipeline/common/replica_store.h"
#include "core/model/model_state.h"
#include "core/partition/stage_plan.h"

namespace edgerig {

class FtpipehdStageWorker : public PipelineStageWorker {
 public:
  static Result<std::unique_ptr<Worker>> create(WorkerContext& ctx, const wire::WorkerStart& start);

 private:
  explicit FtpipehdStageWorker(WorkerContext& ctx) : PipelineStageWorker(ctx) {}

  Status onOtherMessage(const wire::AlgoMessage& m) override;
  Status onPrepare(const pipeline::MigratePrepare& p);
  Status onFetch(const wire::AlgoMessage& m, const pipeline::FetchLayers& f);
  Status onLayerState(const wire::AlgoMessage& m, const pipeline::LayerState& s);
  Status onCommit(const pipeline::MigrateCommit& c);
  // Replication: send this stage's weights to the next stage and/or the controller; keep the
  // previous stage's; give them back to the controller for a recovery.
  Status onReplicate(const pipeline::Replicate& r);
  Status onReplica(const wire::AlgoMessage& m, const pipeline::Replica& r);
  Status onFetchReplica(const pipeline::FetchReplica& f);
  // The stage's own weights and momentum as it replicated them at an iteration, for a recovery.
  Status onFetchSnapshot(const pipeline::FetchSnapshot& f);
  // Builds the new slice once every fetched layer is in, and tells the controller.
  void finishPrepare();
  void answerPrepared(bool ok, const std::string& error);

  // A migration between prepare and commit (or abort).
  struct Prepared {
    int64_t migration = -1;
    StagePlan to;
    int outstanding = 0;  // LayerState answers still expected
    int layers_gained = 0;
    int64_t bytes = 0;
    ModelState weights;   // of the layers gained
    ModelState momentum;  // of the layers gained, where their owner had it
    bool answered = false;
    std::optional<StageModule> module;
    std::unique_ptr<torch::optim::SGD> optimizer;
  };
  std::optional<Prepared> prepared_;
  ReplicaStore neighbour_;  // the previous stage's layers, as it last sent them
  // This stage's own layers as it replicated them, by mini-batch count: the newest two
  // replication boundaries and the newest global one (a recovery rolls every stage back to the
  // newest replica of the lost layers). Cleared when it migrates.
  struct Snapshot {
    std::vector<std::string> layers;
    ModelState state;  // weights and momentum
    bool global = false;
  };
  std::map<int64_t, Snapshot> snapshots_;
};

}  // namespace edgerig
