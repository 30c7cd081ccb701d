#include "core/algorithms/pipeline/common/pipeline_stage_worker.h"

#include <chrono>

#include "core/algorithms/algo_message.h"
#include "core/model/learning_rate.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
Result<std::unique_ptr<Worker>> PipelineStageWorker::create(WorkerContext& ctx,
                                                            const wire::WorkerStart& start) {
  std::unique_ptr<PipelineStageWorker> w(new PipelineStageWorker(ctx));
  if (auto st = w->init(start); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

Status PipelineStageWorker::init(const wire::WorkerStart& start) {
  if (!start.setup().UnpackTo(&setup_)) {
    return invalidArgument("pipeline worker start without a StageSetup (got " +
                           start.setup().type_url() + ")");
  }
  const auto& s = setup_;
  if (s.num_stages() < 1 || s.stage() < 0 || s.stage() >= s.num_stages() ||
      s.device_of_stage_size() != s.num_stages()) {
    return invalidArgument("stage assignment: stage " + std::to_string(s.stage()) + " of " +
                           std::to_string(s.num_stages()) + " is out of range");
  }
  for (int d : s.device_of_stage()) {
    if (d < 0 || d >= ctx_.numDevices()) {
      return invalidArgument("stage assignment names device " + std::to_string(d) + " of " +
                             std::to_string(ctx_.numDevices()));
    }
  }
  run_ = start.run();
  auto chain = LayerChain::build(run_.model(), run_.seed());
  if (!chain) return chain.status();
  chain_ = std::move(chain).value();
  auto module = makeModule(s.first_layer(), s.last_layer());
  if (!module) return module.status();
  try {
    module_ = *module;
    if (start.initial_state().tensors_size() > 0) {
      auto state = fromBlob(start.initial_state());
      if (!state) return state.status();
      if (auto st = loadState(*module_, *state); !st) return st;
    }
    optimizer_ = makeOptimizer(module_);
    if (start.initial_optimizer().tensors_size() > 0) {
      auto momentum = fromBlob(start.initial_optimizer());
      if (!momentum) return momentum.status();
      if (auto st = loadMomentum(*optimizer_, *module_, *momentum); !st) return st;
    }
  } catch (const std::exception& e) {
    return torchError("building the stage", e);
  }
  if (isFirst()) {  // only the first stage holds the images
    if (auto train = ctx_.trainSet(); !train) return train.status();
    if (auto test = ctx_.testSet(); !test) return test.status();
  }
  return Status::ok();
}

Result<StageModule> PipelineStageWorker::makeModule(int first, int last) {
  if (first < 0 || last > chain_->numLayers() || first >= last) {
    return invalidArgument("stage assignment: layers [" + std::to_string(first) + ", " +
                           std::to_string(last) + ") do not fit model '" + run_.model() +
                           "' with " + std::to_string(chain_->numLayers()) + " layers");
  }
  try {
    return StageModule(*chain_, first, last);
  } catch (const std::exception& e) {
    return torchError("building the stage", e);
  }
}

std::unique_ptr<torch::optim::SGD> PipelineStageWorker::makeOptimizer(StageModule& module) const {
  return std::make_unique<torch::optim::SGD>(module->parameters(),
                                             torch::optim::SGDOptions(run_.learning_rate())
                                                 .momentum(run_.momentum())
                                                 .weight_decay(run_.weight_decay()));
}

void PipelineStageWorker::reassign(StageModule module,
                                   std::unique_ptr<torch::optim::SGD> optimizer) {
  setup_.set_first_layer(module->first());
  setup_.set_last_layer(module->last());
  module_ = std::move(module);
  optimizer_ = std::move(optimizer);
}

Status PipelineStageWorker::onOtherMessage(const wire::AlgoMessage& m) {
  return invalidArgument("pipeline stage got a " + bodyName(m) + " message it does not take");
}

void PipelineStageWorker::describe(wire::WorkerReady& ready) const {
  int64_t n = 0;
  for (const auto& p : module_->parameters()) n += p.numel();
  ready.set_parameters(n);
  if (isFirst()) {
    ready.set_train_size((*ctx_.trainSet())->size());
    ready.set_test_size((*ctx_.testSet())->size());
  }
}

Status PipelineStageWorker::onMessage(const wire::AlgoMessage& m) {
  if (bodyIs<pipeline::Activations>(m)) {
    auto act = bodyAs<pipeline::Activations>(m);
    if (!act) return act.status();
    return onActivations(m, *act);
  }
  if (bodyIs<pipeline::Gradients>(m)) {
    auto grad = bodyAs<pipeline::Gradients>(m);
    if (!grad) return grad.status();
    return onGradients(m, *grad);
  }
  if (bodyIs<pipeline::Step>(m)) {
    auto step = bodyAs<pipeline::Step>(m);
    if (!step) return step.status();
    return onStep(*step);
  }
  return onOtherMessage(m);
}

Result<wire::StateReply> PipelineStageWorker::state(bool optimizer) {
  wire::StateReply reply;
  *reply.mutable_state() = toBlob(stateOf(*module_));
  if (optimizer) *reply.mutable_optimizer() = toBlob(momentumOf(*optimizer_, *module_));
  return reply;
}

PipelineStageWorker::Iteration& PipelineStageWorker::iterationState(int64_t iteration,
                                                                    wire::StepMode mode,
                                                                    int micro_batches,
                                                                    int batch_size) {
  auto [it, inserted] = iterations_.try_emplace(iteration);
  if (inserted) {
    it->second.mode = mode;
    it->second.micro_batches = micro_batches;
    it->second.batch_size = batch_size;
  }
  return it->second;
}

Status PipelineStageWorker::onStep(const pipeline::Step& step) {
  if (!isFirst()) {
    return invalidArgument("step command sent to stage " + std::to_string(setup_.stage()));
  }
  ctx_.setIteration(step.iteration());
  const bool train = step.mode() == wire::STEP_MODE_TRAIN;
  auto data = train ? ctx_.trainSet() : ctx_.testSet();
  if (!data) return data.status();
  std::vector<int64_t> indices(step.indices().begin(), step.indices().end());
  if (indices.empty())
    return invalidArgument("step " + std::to_string(step.iteration()) + ": no sample indices");
  auto batch = gatherBatch(**data, indices);
  if (!batch) return batch.status();
  auto [images, labels] = std::move(batch).value();
  const int batch_size = static_cast<int>(indices.size());
  const int m_count = std::max(1, std::min(step.micro_batches(), batch_size));
  auto image_chunks = images.chunk(m_count);
  auto label_chunks = labels.chunk(m_count);
  const int actual = static_cast<int>(image_chunks.size());
  for (int m = 0; m < actual; ++m) {
    if (auto st = forwardMicroBatch(step.iteration(), m, step.mode(), actual, batch_size,
                                    image_chunks[m], label_chunks[m]);
        !st) {
      return st;
    }
  }
  return Status::ok();
}

Status PipelineStageWorker::onActivations(const wire::AlgoMessage& m,
                                          const pipeline::Activations& act) {
  if (isFirst()) return invalidArgument("activations sent to the first stage");
  auto tensors = tensorsOf(m);
  if (!tensors) return tensors.status();
  if (tensors->size() != 2) {
    return invalidArgument("activations carry " + std::to_string(tensors->size()) +
                           " tensors; expected the activations and the labels");
  }
  ctx_.setIteration(act.iteration());
  return forwardMicroBatch(act.iteration(), act.micro_batch(), act.mode(), act.micro_batches(),
                           act.batch_size(), (*tensors)[0], (*tensors)[1]);
}

Status PipelineStageWorker::onGradients(const wire::AlgoMessage& m,
                                        const pipeline::Gradients& grad) {
  if (isLast()) return invalidArgument("gradients sent to the last stage");
  auto tensors = tensorsOf(m);
  if (!tensors) return tensors.status();
  if (tensors->size() != 1) {
    return invalidArgument("gradients carry " + std::to_string(tensors->size()) +
                           " tensors; expected one");
  }
  return backwardMicroBatch(grad.iteration(), grad.micro_batch(), (*tensors)[0]);
}

Status PipelineStageWorker::forwardMicroBatch(int64_t iteration, int m, wire::StepMode mode,
                                              int micro_batches, int batch_size,
                                              torch::Tensor input, const torch::Tensor& labels) {
  Iteration& st = iterationState(iteration, mode, micro_batches, batch_size);
  const bool train = mode == wire::STEP_MODE_TRAIN;
  try {
    torch::Tensor output;
    if (train) {
      if (!isFirst()) input = input.detach().requires_grad_(true);
      st.compute_s += timed([&] { output = module_->forward(input); });
      ctx_.meter().addSamples(input.size(0));
    } else {
      torch::NoGradGuard no_grad;
      st.compute_s += timed([&] { output = module_->forward(input); });
    }
    ++st.forwards;
    if (isLast()) {
      torch::Tensor loss_sum;
      st.compute_s += timed([&] {
        loss_sum = torch::nn::functional::cross_entropy(
            output, labels,
            torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
        if (train) (loss_sum / static_cast<double>(batch_size)).backward();
      });
      st.loss_sum += loss_sum.item<double>();
      st.correct += output.argmax(1).eq(labels).sum().item<int64_t>();
      st.samples += labels.size(0);
      if (train) {
        ++st.backwards;
        sendInputGradient(iteration, m, input);
      }
    } else {
      pipeline::Activations a;
      a.set_iteration(iteration);
      a.set_micro_batch(m);
      a.set_mode(mode);
      a.set_micro_batches(micro_batches);
      a.set_batch_size(batch_size);
      wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kActivation, a);
      appendTensor(msg, output.detach());
      appendTensor(msg, labels);
      ctx_.send(deviceOfStage(setup_.stage() + 1), std::move(msg));
      if (train) st.pending[m] = MicroBatch{input, output};
    }
  } catch (const std::exception& e) {
    return torchError("forward pass", e);
  }
  finishIfDone(iteration);
  return Status::ok();
}

Status PipelineStageWorker::backwardMicroBatch(int64_t iteration, int m,
                                               const torch::Tensor& grad_output) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end() || !it->second.pending.count(m)) {
    return invalidArgument("gradients for iteration " + std::to_string(iteration) +
                           " micro-batch " + std::to_string(m) + " that this stage never sent");
  }
  Iteration& st = it->second;
  MicroBatch mb = std::move(st.pending[m]);
  st.pending.erase(m);
  try {
    if (!mb.output.sizes().equals(grad_output.sizes())) {
      return invalidArgument("gradients for micro-batch " + std::to_string(m) +
                             " have the wrong shape");
    }
    st.compute_s += timed([&] { mb.output.backward(grad_output); });
    ++st.backwards;
    sendInputGradient(iteration, m, mb.input);
  } catch (const std::exception& e) {
    return torchError("backward pass", e);
  }
  finishIfDone(iteration);
  return Status::ok();
}

void PipelineStageWorker::sendInputGradient(int64_t iteration, int m, const torch::Tensor& input) {
  if (isFirst()) return;  // the data needs no gradient
  pipeline::Gradients g;
  g.set_iteration(iteration);
  g.set_micro_batch(m);
  wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kGradient, g);
  appendTensor(msg, input.grad());
  ctx_.send(deviceOfStage(setup_.stage() - 1), std::move(msg));
}

void PipelineStageWorker::finishIfDone(int64_t iteration) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end()) return;
  Iteration& st = it->second;
  const bool train = st.mode == wire::STEP_MODE_TRAIN;
  const bool done = train ? st.backwards == st.micro_batches : st.forwards == st.micro_batches;
  if (!done) return;
  if (train) {
    st.compute_s += timed([&] {
      setLearningRate(*optimizer_, run_, iteration);
      optimizer_->step();
      optimizer_->zero_grad();
    });
  }
  pipeline::StepDone d;
  d.set_iteration(iteration);
  d.set_stage(setup_.stage());
  d.set_mode(st.mode);
  d.set_loss_sum(st.loss_sum);
  d.set_correct(st.correct);
  d.set_samples(st.samples);
  d.set_compute_s(st.compute_s);
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, d));
  iterations_.erase(it);
}

}  // namespace edgerig
