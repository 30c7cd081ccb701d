// The agent side of `gpipe`: one pipeline stage. Forward micro-batches flow to the next
// stage with their labels; the last stage computes the loss scaled by 1/B and starts the
// backward pass; each stage accumulates gradients over the M micro-batches and takes one
// optimizer step when the last one is back (the flush). Runs on the trainer thread only.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>

#include "core/agent/compute_meter.h"
#include "core/algorithms/pipeline/stage_links.h"
#include "core/data/dataset.h"
#include "core/model/layer_chain.h"
#include "core/model/model_state.h"
#include "core/model/stage.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

class GpipeStageWorker {
 public:
  // Builds the stage (and, on the first stage, loads the data). data_dir_override is the
  // agent's own --data-dir, which wins over the experiment's path on a real device.
  static Result<std::unique_ptr<GpipeStageWorker>> create(const wire::StageAssignment& a,
                                                          const std::string& data_dir_override,
                                                          ComputeMeter& meter, StageLinks links);

  int stage() const { return stage_; }
  bool isFirst() const { return stage_ == 0; }
  bool isLast() const { return stage_ == num_stages_ - 1; }
  int64_t trainSize() const { return train_ ? train_->size() : 0; }
  int64_t testSize() const { return test_ ? test_->size() : 0; }
  int64_t parameterCount() const;

  // Each returns an error the agent reports as RunError; the worker stays usable.
  Status onStep(const wire::StepCommand& step);  // first stage only
  Status onActivations(const wire::Activations& act);
  Status onGradients(const wire::Gradients& grad);
  ModelState state() const;

 private:
  GpipeStageWorker() = default;

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

  Status forwardMicroBatch(int64_t iteration, int m, wire::StepMode mode, int micro_batches,
                           int batch_size, torch::Tensor input, const torch::Tensor& labels);
  Status backwardMicroBatch(int64_t iteration, int m, const torch::Tensor& grad_output);
  void sendInputGradient(int64_t iteration, int m, const torch::Tensor& input);
  void finishIfDone(int64_t iteration);
  Iteration& iterationState(int64_t iteration, wire::StepMode mode, int micro_batches,
                            int batch_size);

  int stage_ = 0;
  int num_stages_ = 1;
  std::optional<LayerChain> chain_;
  StageModule module_{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer_;
  std::optional<Dataset> train_;
  std::optional<Dataset> test_;
  ComputeMeter* meter_ = nullptr;
  StageLinks links_;
  std::map<int64_t, Iteration> iterations_;
};

}  // namespace edgerig
