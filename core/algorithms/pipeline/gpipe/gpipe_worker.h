// The agent side of `gpipe`: one pipeline stage. Forward micro-batches flow to the next
// stage with their labels; the last stage computes the loss scaled by 1/B and starts the
// backward pass; each stage accumulates gradients over the M micro-batches and takes one
// optimizer step when the last one is back (the flush). Runs on the trainer thread only.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>

#include "core/algorithms/worker.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "pipeline.pb.h"

namespace edgerig {

class GpipeStageWorker : public Worker {
 public:
  // Builds the stage from the StageSetup in start.setup(); the first stage loads the data.
  static Result<std::unique_ptr<Worker>> create(WorkerContext& ctx, const wire::WorkerStart& start);

  void describe(wire::WorkerReady& ready) const override;
  Status onMessage(const wire::AlgoMessage& message) override;
  Result<wire::StateReply> state(bool optimizer) override;

 private:
  explicit GpipeStageWorker(WorkerContext& ctx) : ctx_(ctx) {}

  bool isFirst() const { return setup_.stage() == 0; }
  bool isLast() const { return setup_.stage() == setup_.num_stages() - 1; }
  int deviceOfStage(int stage) const { return setup_.device_of_stage(stage); }

  struct MicroBatch {
    torch::Tensor input;   // requires grad on stages after the first
    torch::Tensor output;  // kept for the backward pass
  };
  struct Iteration {
    wire::StepMode mode = wire::STEP_MODE_TRAIN;
    int micro_batches = 0;
    int batch_size = 0;
    int forwards = 0;
    int backwards = 0;
    double loss_sum = 0;
    int64_t correct = 0;
    int64_t samples = 0;
    double compute_s = 0;
    std::map<int, MicroBatch> pending;
  };

  Status onStep(const pipeline::Step& step);  // first stage only
  Status onActivations(const wire::AlgoMessage& m, const pipeline::Activations& act);
  Status onGradients(const wire::AlgoMessage& m, const pipeline::Gradients& grad);
  Status forwardMicroBatch(int64_t iteration, int m, wire::StepMode mode, int micro_batches,
                           int batch_size, torch::Tensor input, const torch::Tensor& labels);
  Status backwardMicroBatch(int64_t iteration, int m, const torch::Tensor& grad_output);
  void sendInputGradient(int64_t iteration, int m, const torch::Tensor& input);
  void finishIfDone(int64_t iteration);
  Iteration& iterationState(int64_t iteration, wire::StepMode mode, int micro_batches,
                            int batch_size);

  WorkerContext& ctx_;
  pipeline::StageSetup setup_;
  std::optional<LayerChain> chain_;
  StageModule module_{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer_;
  std::map<int64_t, Iteration> iterations_;
};

}  // namespace edgerig
