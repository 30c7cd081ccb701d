#include "core/algorithms/decentralized/common/decentralized_worker.h"

#include "core/algorithms/algo_message.h"

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

Status DecentralizedWorker::onEvaluate(const decentralized::Evaluate& request) {
  auto counts = replica_->evaluate(request.offset(), request.samples());
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
