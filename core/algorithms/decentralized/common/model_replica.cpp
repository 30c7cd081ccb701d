#include "core/algorithms/decentralized/common/model_replica.h"

#include <algorithm>

#include "core/data/random_stream.h"
#include "core/data/sampler.h"
#include "core/model/learning_rate.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

constexpr int64_t kEvalBatch = 500;

Status torchError(const char* what, const std::exception& e) {
  return internalError(std::string(what) + ": " + e.what());
}

}  // namespace

Result<std::unique_ptr<ModelReplica>> ModelReplica::create(WorkerContext& ctx,
                                                           const wire::WorkerStart& start) {
  std::unique_ptr<ModelReplica> r(new ModelReplica(ctx));
  const auto& run = start.run();
  auto chain = LayerChain::build(run.model(), run.seed());
  if (!chain) return chain.status();
  r->chain_ = std::move(chain).value();
  try {
    r->module_ = StageModule(*r->chain_, 0, r->chain_->numLayers());
    r->optimizer_ = std::make_unique<torch::optim::SGD>(
        r->module_->parameters(), torch::optim::SGDOptions(run.learning_rate())
                                      .momentum(run.momentum())
                                      .weight_decay(run.weight_decay()));
  } catch (const std::exception& e) {
    return torchError("building the model", e);
  }
  if (auto st = r->load(start.initial_state(), start.initial_optimizer()); !st) return st;
  auto train = ctx.trainSet();
  if (!train) return train.status();
  auto test = ctx.testSet();
  if (!test) return test.status();
  auto shard = ctx.shard();
  if (!shard) return shard.status();
  r->train_ = *train;
  r->test_ = *test;
  r->shard_ = *shard;
  if (static_cast<int64_t>(r->shard_->size()) < run.batch_size()) {
    return invalidArgument("device " + std::to_string(ctx.device()) + "'s shard has " +
                           std::to_string(r->shard_->size()) +
                           " samples, fewer than one batch of " + std::to_string(run.batch_size()) +
                           "; lower training.batchSize or use a milder dataset.split");
  }
  return r;
}

Status ModelReplica::load(const wire::ModelStateBlob& weights,
                          const wire::ModelStateBlob& momentum) {
  try {
    if (weights.tensors_size() > 0) {
      auto state = fromBlob(weights);
      if (!state) return state.status();
      if (auto st = loadState(*module_, *state); !st) return st;
    }
    if (momentum.tensors_size() > 0) {
      auto m = fromBlob(momentum);
      if (!m) return m.status();
      if (auto st = loadMomentum(*optimizer_, *module_, *m); !st) return st;
    }
  } catch (const std::exception& e) {
    return torchError("loading the model", e);
  }
  return Status::ok();
}

std::vector<int64_t> ModelReplica::localBatch(const std::vector<int64_t>& shard, int64_t batch_size,
                                              uint64_t seed, int device, int64_t iteration) {
  const EpochSampler sampler(static_cast<int64_t>(shard.size()), batch_size,
                             mixSeed(seed, static_cast<uint64_t>(device) + 1));
  std::vector<int64_t> out;
  for (int64_t p : sampler.batch(iteration)) out.push_back(shard[static_cast<size_t>(p)]);
  return out;
}

Result<LocalStep> ModelReplica::computeGradients(int64_t iteration) {
  const auto& run = ctx_.run();
  return computeGradientsOn(
      localBatch(*shard_, run.batch_size(), run.seed(), ctx_.device(), iteration));
}

Result<LocalStep> ModelReplica::computeGradientsOn(const std::vector<int64_t>& indices) {
  auto batch = gatherBatch(*train_, indices);
  if (!batch) return batch.status();
  auto [images, labels] = std::move(batch).value();
  LocalStep step;
  try {
    torch::Tensor loss_sum, output;
    step.compute_s = timedCompute(ctx_.meter(), [&] {
      output = module_->forward(images);
      loss_sum = torch::nn::functional::cross_entropy(
          output, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
      (loss_sum / static_cast<double>(labels.size(0))).backward();
    });
    step.loss_sum = loss_sum.item<double>();
    step.correct = output.argmax(1).eq(labels).sum().item<int64_t>();
    step.samples = labels.size(0);
    ctx_.meter().addSamples(step.samples);
  } catch (const std::exception& e) {
    return torchError("forward and backward pass", e);
  }
  return step;
}

double ModelReplica::applyStep(int64_t iteration) {
  return timedCompute(ctx_.meter(), [&] {
    setLearningRate(*optimizer_, ctx_.run(), iteration);
    optimizer_->step();
    optimizer_->zero_grad();
  });
}

void ModelReplica::zeroGradients() { optimizer_->zero_grad(); }

Result<EvalCounts> ModelReplica::evaluate(int64_t offset, int64_t samples) {
  const int64_t first = std::clamp<int64_t>(offset, 0, test_->size());
  const int64_t n = std::clamp<int64_t>(samples, 0, test_->size() - first);
  EvalCounts out;
  try {
    torch::NoGradGuard no_grad;
    for (auto indices : evalBatches(n, kEvalBatch)) {
      for (auto& i : indices) i += first;
      auto batch = gatherBatch(*test_, indices);
      if (!batch) return batch.status();
      auto [images, labels] = std::move(batch).value();
      torch::Tensor output;
      timedCompute(ctx_.meter(), [&] { output = module_->forward(images); });
      out.loss_sum += torch::nn::functional::cross_entropy(
                          output, labels,
                          torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                          .item<double>();
      out.correct += output.argmax(1).eq(labels).sum().item<int64_t>();
      out.samples += labels.size(0);
    }
  } catch (const std::exception& e) {
    return torchError("evaluation", e);
  }
  return out;
}

Result<EvalCounts> ModelReplica::evaluateModel(const ModelState& model, int64_t offset,
                                               int64_t samples) {
  ModelState own;
  try {
    own = stateOf(*module_);
  } catch (const std::exception& e) {
    return torchError("keeping the model aside", e);
  }
  if (auto st = loadState(*module_, model); !st) {
    return invalidArgument("the model to evaluate does not fit this one: " + st.message());
  }
  auto counts = evaluate(offset, samples);
  if (auto st = loadState(*module_, own); !st) return st;
  return counts;
}

Result<wire::StateReply> ModelReplica::state(bool optimizer) {
  wire::StateReply reply;
  *reply.mutable_state() = toBlob(stateOf(*module_));
  if (optimizer) *reply.mutable_optimizer() = toBlob(momentumOf(*optimizer_, *module_));
  return reply;
}

int64_t ModelReplica::parameterCount() const {
  int64_t n = 0;
  for (const auto& p : module_->parameters()) n += p.numel();
  return n;
}

}  // namespace edgerig
