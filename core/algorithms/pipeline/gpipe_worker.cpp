#include "core/algorithms/pipeline/gpipe_worker.h"

#include <chrono>

#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

// Runs `fn`, charges its time to the meter (which adds the emulated slowdown) and returns
// the charged seconds.
template <typename Fn>
double timed(ComputeMeter& meter, Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return meter.afterCompute(t);
}

Status torchError(const char* what, const std::exception& e) {
  return internalError(std::string(what) + ": " + e.what());
}

}  // namespace

Result<std::unique_ptr<GpipeStageWorker>> GpipeStageWorker::create(
    const wire::StageAssignment& a, const std::string& data_dir_override, ComputeMeter& meter,
    StageLinks links) {
  std::unique_ptr<GpipeStageWorker> w(new GpipeStageWorker());
  w->stage_ = a.stage();
  w->num_stages_ = a.num_stages();
  w->meter_ = &meter;
  w->links_ = std::move(links);
  if (a.num_stages() < 1 || a.stage() < 0 || a.stage() >= a.num_stages()) {
    return invalidArgument("stage assignment: stage " + std::to_string(a.stage()) + " of " +
                           std::to_string(a.num_stages()) + " is out of range");
  }
  auto chain = LayerChain::build(a.model(), a.seed());
  if (!chain) return chain.status();
  if (a.first_layer() < 0 || a.last_layer() > chain->numLayers() ||
      a.first_layer() >= a.last_layer()) {
    return invalidArgument("stage assignment: layers [" + std::to_string(a.first_layer()) + ", " +
                           std::to_string(a.last_layer()) + ") do not fit model '" + a.model() +
                           "' with " + std::to_string(chain->numLayers()) + " layers");
  }
  w->chain_ = std::move(chain).value();
  try {
    w->module_ = StageModule(*w->chain_, a.first_layer(), a.last_layer());
    if (a.initial_state().tensors_size() > 0) {
      auto state = fromBlob(a.initial_state());
      if (!state) return state.status();
      if (auto st = loadState(*w->module_, *state); !st) return st;
    }
    w->optimizer_ = std::make_unique<torch::optim::SGD>(w->module_->parameters(),
                                                        torch::optim::SGDOptions(a.learning_rate())
                                                            .momentum(a.momentum())
                                                            .weight_decay(a.weight_decay()));
  } catch (const std::exception& e) {
    return torchError("building the stage", e);
  }
  if (w->isFirst()) {
    const std::string dir = data_dir_override.empty() ? a.data_dir() : data_dir_override;
    auto train =
        loadDataset(a.dataset(), dir, Split::kTrain, a.train_limit(), a.synthetic_size(), a.seed());
    if (!train) return train.status();
    auto test =
        loadDataset(a.dataset(), dir, Split::kTest, a.test_limit(), a.synthetic_size(), a.seed());
    if (!test) return test.status();
    w->train_ = std::move(train).value();
    w->test_ = std::move(test).value();
  }
  return w;
}

int64_t GpipeStageWorker::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : module_->parameters()) n += p.numel();
  return n;
}

GpipeStageWorker::Iteration& GpipeStageWorker::iterationState(int64_t iteration,
                                                              wire::StepMode mode,
                                                              int micro_batches, int batch_size) {
  auto [it, inserted] = iterations_.try_emplace(iteration);
  if (inserted) {
    it->second.mode = mode;
    it->second.micro_batches = micro_batches;
    it->second.batch_size = batch_size;
  }
  return it->second;
}

Status GpipeStageWorker::onStep(const wire::StepCommand& step) {
  if (!isFirst()) return invalidArgument("step command sent to stage " + std::to_string(stage_));
  const bool train = step.mode() == wire::STEP_MODE_TRAIN;
  const Dataset& data = train ? *train_ : *test_;
  std::vector<int64_t> indices(step.indices().begin(), step.indices().end());
  if (indices.empty())
    return invalidArgument("step " + std::to_string(step.iteration()) + ": no sample indices");
  auto batch = gatherBatch(data, indices);
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

Status GpipeStageWorker::onActivations(const wire::Activations& act) {
  if (isFirst()) return invalidArgument("activations sent to the first stage");
  auto input = fromBlob(act.tensor());
  if (!input) return input.status();
  auto labels = fromBlob(act.labels());
  if (!labels) return labels.status();
  return forwardMicroBatch(act.iteration(), act.micro_batch(), act.mode(), act.micro_batches(),
                           act.batch_size(), *input, *labels);
}

Status GpipeStageWorker::onGradients(const wire::Gradients& grad) {
  if (isLast()) return invalidArgument("gradients sent to the last stage");
  auto g = fromBlob(grad.tensor());
  if (!g) return g.status();
  return backwardMicroBatch(grad.iteration(), grad.micro_batch(), *g);
}

Status GpipeStageWorker::forwardMicroBatch(int64_t iteration, int m, wire::StepMode mode,
                                           int micro_batches, int batch_size, torch::Tensor input,
                                           const torch::Tensor& labels) {
  Iteration& st = iterationState(iteration, mode, micro_batches, batch_size);
  const bool train = mode == wire::STEP_MODE_TRAIN;
  try {
    torch::Tensor output;
    if (train) {
      if (!isFirst()) input = input.detach().requires_grad_(true);
      st.compute_s += timed(*meter_, [&] { output = module_->forward(input); });
      meter_->addSamples(input.size(0));
    } else {
      torch::NoGradGuard no_grad;
      st.compute_s += timed(*meter_, [&] { output = module_->forward(input); });
    }
    ++st.forwards;
    if (isLast()) {
      torch::Tensor loss_sum;
      st.compute_s += timed(*meter_, [&] {
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
      wire::Envelope env;
      auto* a = env.mutable_activations();
      a->set_iteration(iteration);
      a->set_micro_batch(m);
      a->set_mode(mode);
      a->set_micro_batches(micro_batches);
      a->set_batch_size(batch_size);
      *a->mutable_tensor() = toBlob(output.detach().contiguous());
      *a->mutable_labels() = toBlob(labels.contiguous());
      links_.to_next(std::move(env));
      if (train) st.pending[m] = MicroBatch{input, output};
    }
  } catch (const std::exception& e) {
    return torchError("forward pass", e);
  }
  finishIfDone(iteration);
  return Status::ok();
}

Status GpipeStageWorker::backwardMicroBatch(int64_t iteration, int m,
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
    st.compute_s += timed(*meter_, [&] { mb.output.backward(grad_output); });
    ++st.backwards;
    sendInputGradient(iteration, m, mb.input);
  } catch (const std::exception& e) {
    return torchError("backward pass", e);
  }
  finishIfDone(iteration);
  return Status::ok();
}

void GpipeStageWorker::sendInputGradient(int64_t iteration, int m, const torch::Tensor& input) {
  if (isFirst()) return;  // the data needs no gradient
  wire::Envelope env;
  auto* g = env.mutable_gradients();
  g->set_iteration(iteration);
  g->set_micro_batch(m);
  *g->mutable_tensor() = toBlob(input.grad());
  links_.to_previous(std::move(env));
}

void GpipeStageWorker::finishIfDone(int64_t iteration) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end()) return;
  Iteration& st = it->second;
  const bool train = st.mode == wire::STEP_MODE_TRAIN;
  const bool done = train ? st.backwards == st.micro_batches : st.forwards == st.micro_batches;
  if (!done) return;
  if (train) {
    st.compute_s += timed(*meter_, [&] {
      optimizer_->step();
      optimizer_->zero_grad();
    });
  }
  wire::Envelope env;
  auto* d = env.mutable_step_done();
  d->set_iteration(iteration);
  d->set_stage(stage_);
  d->set_mode(st.mode);
  d->set_loss_sum(st.loss_sum);
  d->set_correct(st.correct);
  d->set_samples(st.samples);
  d->set_compute_s(st.compute_s);
  links_.to_controller(std::move(env));
  iterations_.erase(it);
}

ModelState GpipeStageWorker::state() const { return stateOf(*module_); }

}  // namespace edgerig
