// The agent side of a synchronous pipeline (gpipe; ftpipehd extends it): one pipeline stage.
// Forward micro-batches flow to the next stage with their labels; the last stage computes the loss
// scaled by 1/B and starts the backward pass; each stage accumulates gradients over the M
// micro-batches and takes one optimizer step when the last one is back (the flush). Runs on the
// trainer thread only.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/algorithms/worker.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "pipeline.pb.h"

namespace edgerig {

class PipelineStageWorker : public Worker {
 public:
  // Builds the stage from the StageSetup in start.setup(); the first stage loads the data.
  static Result<std::unique_ptr<Worker>> create(WorkerContext& ctx, const wire::WorkerStart& start);

  void describe(wire::WorkerReady& ready) const override;
  Status onMessage(const wire::AlgoMessage& message) override;
  Result<wire::StateReply> state(bool optimizer) override;

 protected:
  explicit PipelineStageWorker(WorkerContext& ctx) : ctx_(ctx) {}
  // Builds the stage from the StageSetup in start.setup() (create() is new + init()).
  Status init(const wire::WorkerStart& start);
  // A message the stage itself does not take: an error here; a subclass adds its own messages.
  virtual Status onOtherMessage(const wire::AlgoMessage& message);

  // Layers [first, last) of the chain as a new module, and an optimizer for it with the run's
  // settings. The module shares its blocks with the chain, so layers the stage already holds
  // keep their current weights; a migration loads the layers it gains into it.
  Result<StageModule> makeModule(int first, int last);
  std::unique_ptr<torch::optim::SGD> makeOptimizer(StageModule& module) const;
  // Switches the stage to another slice of layers (a migration's commit). Only between
  // iterations: nothing may be in flight.
  void reassign(StageModule module, std::unique_ptr<torch::optim::SGD> optimizer);
  // No iteration or evaluation is in flight on this stage.
  bool idle() const { return iterations_.empty(); }

  // Runs `fn`, charges its time to the meter (which adds the emulated slowdown) and returns
  // the charged seconds.
  template <typename Fn>
  double timed(Fn&& fn) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    return ctx_.meter().afterCompute(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  static Status torchError(const char* what, const std::exception& e) {
    return internalError(std::string(what) + ": " + e.what());
  }

  WorkerContext& ctx() { return ctx_; }
  const LayerChain& chain() const { return *chain_; }
  const pipeline::StageSetup& stageSetup() const { return setup_; }
  StageModule& module() { return module_; }
  torch::optim::SGD& optimizer() { return *optimizer_; }

  bool isFirst() const { return setup_.stage() == 0; }
  bool isLast() const { return setup_.stage() == setup_.num_stages() - 1; }
  int deviceOfStage(int stage) const { return setup_.device_of_stage(stage); }

 private:
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
  wire::RunSettings run_;
  std::map<int64_t, Iteration> iterations_;
};

}  // namespace edgerig
