#include "core/algorithms/decentralized/common/decentralized_worker.h"

#include "core/algorithms/algo_message.h"
#include "core/model/tensor_codec.h"

namespace edgerig {

void DecentralizedWorker::describe(wire::WorkerReady& ready) const {
  ready.set_parameters(replica_->parameterCount());
  ready.set_train_size((*ctx_.trainSet())->size());
  ready.set_test_size((*ctx_.testSet())->size());
}

Status DecentralizedWorker::buildReplica(const wire::WorkerStart& start) {
  auto replica = ModelReplica::create(ctx_, start);
  if (!replica) return replica.status();
  replica_ = std::move(replica).value();
  return Status::ok();
}

Status DecentralizedWorker::onEvaluate(const wire::AlgoMessage& m) {
  auto parsed = bodyAs<decentralized::Evaluate>(m);
  if (!parsed) return parsed.status();
  const decentralized::Evaluate& request = *parsed;
  Result<EvalCounts> counts = EvalCounts{};
  if (request.model_names_size() == 0) {
    counts = replica_->evaluate(request.offset(), request.samples());
  } else {
    auto tensors = tensorsOf(m);
    if (!tensors) return tensors.status();
    if (static_cast<int>(tensors->size()) != request.model_names_size()) {
      return invalidArgument("an Evaluate names " + std::to_string(request.model_names_size()) +
                             " tensors of a model and carries " + std::to_string(tensors->size()));
    }
    ModelState model;
    for (int i = 0; i < request.model_names_size(); ++i) {
      model.emplace_back(request.model_names(i), std::move((*tensors)[static_cast<size_t>(i)]));
    }
    counts = replica_->evaluateModel(model, request.offset(), request.samples());
  }
  if (!counts) return counts.status();
  decentralized::EvalDone done;
  done.set_eval_id(request.eval_id());
  done.set_loss_sum(counts->loss_sum);
  done.set_correct(counts->correct);
  done.set_samples(counts->samples);
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  return Status::ok();
}

}  // namespace edgerig
