#include "core/algorithms/decentralized/dssync/dssync_worker.h"

#include <algorithm>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/allreduce/allreduce_worker.h"

namespace edgerig {

Result<std::unique_ptr<Worker>> DssyncWorker::create(WorkerContext& ctx,
                                                     const wire::WorkerStart& start) {
  std::unique_ptr<DssyncWorker> w(new DssyncWorker(ctx));
  if (auto st = w->begin("dssync", start, w->setup_); !st) return st;
  w->buckets_ = AllreduceWorker::bucketsOf(w->replica_->parameters(), w->setup_.bucket_bytes());
  return std::unique_ptr<Worker>(std::move(w));
}

Status DssyncWorker::onMessage(const wire::AlgoMessage& m) {
  if (bodyIs<decentralized::RingChunk>(m)) {
    auto c = bodyAs<decentralized::RingChunk>(m);
    return c ? onChunk(m, *c) : c.status();
  }
  if (bodyIs<decentralized::GroupStep>(m)) {
    auto s = bodyAs<decentralized::GroupStep>(m);
    return s ? onStep(*s) : s.status();
  }
  if (bodyIs<decentralized::RingSetup>(m)) {
    auto r = bodyAs<decentralized::RingSetup>(m);
    return r ? onRingSetup(*r) : r.status();
  }
  if (bodyIs<decentralized::Evaluate>(m)) return onEvaluate(m);
  return invalidArgument("dssync worker got a " + bodyName(m) + " message it does not take");
}

Status DssyncWorker::onStep(const decentralized::GroupStep& step) {
  if (step.ring_epoch() != setup_.ring_epoch()) {
    return invalidArgument("dssync step " + std::to_string(step.iteration()) + " for epoch " +
                           std::to_string(step.ring_epoch()) + ", this device is in epoch " +
                           std::to_string(setup_.ring_epoch()));
  }
  std::vector<int> group(step.group().begin(), step.group().end());
  if (std::find(group.begin(), group.end(), ctx_.device()) == group.end()) {
    return invalidArgument("dssync step " + std::to_string(step.iteration()) +
                           " names a group without this device (" + std::to_string(ctx_.device()) +
                           ")");
  }
  for (int d : group) {
    if (std::find(setup_.ring().begin(), setup_.ring().end(), d) == setup_.ring().end()) {
      return invalidArgument("dssync step " + std::to_string(step.iteration()) + " names device " +
                             std::to_string(d) + ", not a member");
    }
  }
  ctx_.setIteration(step.iteration());
  auto local = replica_->computeGradients(step.iteration());
  if (!local) return local.status();
  local->compute_s +=
      replica_->applyStep(step.iteration());  // the local step; then the group's average
  Round r;
  r.iteration = step.iteration();
  r.local = *local;
  r.reduce_start = std::chrono::steady_clock::now();
  const int64_t iteration = step.iteration();
  const uint32_t epoch = setup_.ring_epoch();
  r.ring.emplace(std::move(group), ctx_.device(),
                 [this, iteration, epoch](int to, int bucket, int s, const torch::Tensor& values) {
                   decentralized::RingChunk c;
                   c.set_iteration(iteration);
                   c.set_ring_epoch(epoch);
                   c.set_bucket(bucket);
                   c.set_step(s);
                   wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, c);
                   appendTensor(m, values);
                   ctx_.send(to, std::move(m));
                 });
  round_ = std::move(r);
  // The parameters, flattened bucket by bucket (the ring sums them in place).
  torch::NoGradGuard no_grad;
  const auto params = replica_->parameters();
  std::vector<torch::Tensor> flat;
  for (const auto& bucket : buckets_) {
    std::vector<torch::Tensor> parts;
    for (size_t k : bucket) parts.push_back(params[k].detach().reshape({-1}));
    flat.push_back(torch::cat(parts));
  }
  round_->ring->start(std::move(flat));
  // Chunks that came before this step.
  if (auto it = early_.find(iteration); it != early_.end()) {
    for (const Chunk& c : it->second) {
      if (auto st = round_->ring->onChunk(c.bucket, c.step, c.values); !st) return st;
    }
  }
  early_.erase(early_.begin(), early_.upper_bound(iteration));
  return finishIfAveraged();
}

Status DssyncWorker::onChunk(const wire::AlgoMessage& m, const decentralized::RingChunk& c) {
  if (c.ring_epoch() != setup_.ring_epoch()) return Status::ok();  // members changed since
  auto values = tensorViewsOf(m);
  if (!values) return values.status();
  if (values->size() != 1) {
    return invalidArgument("ring chunk with " + std::to_string(values->size()) + " tensors");
  }
  if (round_ && round_->iteration == c.iteration()) {
    if (auto st = round_->ring->onChunk(c.bucket(), c.step(), (*values)[0]); !st) return st;
    return finishIfAveraged();
  }
  if (round_ && c.iteration() < round_->iteration) {
    return invalidArgument("ring chunk of round " + std::to_string(c.iteration()) +
                           ", this device is in round " + std::to_string(round_->iteration));
  }
  early_[c.iteration()].push_back(Chunk{c.bucket(), c.step(), (*values)[0].clone()});
  return Status::ok();
}

Status DssyncWorker::finishIfAveraged() {
  if (!round_ || round_->reported || !round_->ring->done()) return Status::ok();
  torch::NoGradGuard no_grad;
  const auto params = replica_->parameters();
  const double n = static_cast<double>(round_->ring->size());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const torch::Tensor& sum = round_->ring->buckets()[b];
    int64_t offset = 0;
    for (size_t k : buckets_[b]) {
      torch::Tensor p = params[k];
      const int64_t count = p.numel();
      p.copy_(sum.slice(0, offset, offset + count).view_as(p)).div_(n);
      offset += count;
    }
  }
  round_->reported = true;
  decentralized::StepDone done;
  done.set_iteration(round_->iteration);
  done.set_ring_epoch(setup_.ring_epoch());
  done.set_loss_sum(round_->local.loss_sum);
  done.set_correct(round_->local.correct);
  done.set_samples(round_->local.samples);
  done.set_compute_s(round_->local.compute_s);
  done.set_comm_s(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - round_->reduce_start)
          .count());
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  return Status::ok();
}

Status DssyncWorker::onRingSetup(const decentralized::RingSetup& setup) {
  if (std::find(setup.ring().begin(), setup.ring().end(), ctx_.device()) == setup.ring().end()) {
    return invalidArgument("dssync members without this device (" + std::to_string(ctx_.device()) +
                           ")");
  }
  setup_ = setup;
  // A round in flight included a lost device: this device keeps its locally stepped model.
  round_.reset();
  early_.clear();
  decentralized::RingReady ready;
  ready.set_ring_epoch(setup_.ring_epoch());
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, ready));
  return Status::ok();
}

}  // namespace edgerig
