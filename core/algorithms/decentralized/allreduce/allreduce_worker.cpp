#include "core/algorithms/decentralized/allreduce/allreduce_worker.h"

#include "core/algorithms/algo_message.h"
#include "core/model/tensor_codec.h"

namespace edgerig {

Result<std::unique_ptr<Worker>> AllreduceWorker::create(WorkerContext& ctx,
                                                        const wire::WorkerStart& start) {
  std::unique_ptr<AllreduceWorker> w(new AllreduceWorker(ctx));
  if (auto st = w->begin("allreduce", start, w->ring_); !st) return st;
  w->buckets_ = bucketsOf(w->replica_->parameters(), w->ring_.bucket_bytes());
  if (auto st = w->onRingSetup(w->ring_, /*reply=*/false); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

std::vector<std::vector<size_t>> AllreduceWorker::bucketsOf(
    const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  std::vector<std::vector<size_t>> out;
  int64_t filled = 0;
  for (size_t k = parameters.size(); k-- > 0;) {
    if (out.empty() || (filled > 0 && filled + parameters[k].numel() * 4 > bucket_bytes)) {
      out.emplace_back();
      filled = 0;
    }
    out.back().push_back(k);
    filled += parameters[k].numel() * 4;
  }
  return out;
}

Status AllreduceWorker::onMessage(const wire::AlgoMessage& m) {
  if (bodyIs<decentralized::RingChunk>(m)) {
    auto c = bodyAs<decentralized::RingChunk>(m);
    return c ? onChunk(m, *c) : c.status();
  }
  if (bodyIs<decentralized::Step>(m)) {
    auto s = bodyAs<decentralized::Step>(m);
    return s ? onStep(*s) : s.status();
  }
  if (bodyIs<decentralized::Commit>(m)) {
    auto c = bodyAs<decentralized::Commit>(m);
    return c ? onCommit(*c) : c.status();
  }
  if (bodyIs<decentralized::RingSetup>(m)) {
    auto r = bodyAs<decentralized::RingSetup>(m);
    return r ? onRingSetup(*r, /*reply=*/true) : r.status();
  }
  if (bodyIs<decentralized::Evaluate>(m)) return onEvaluate(m);
  return invalidArgument("allreduce worker got a " + bodyName(m) + " message it does not take");
}

RingAllreduce& AllreduceWorker::ringFor(int64_t iteration) {
  Iteration& it = iterations_[iteration];
  if (!it.ring) {
    it.number = iteration;
    const uint32_t epoch = ring_.ring_epoch();
    std::vector<int> ring(ring_.ring().begin(), ring_.ring().end());
    it.ring.emplace(
        std::move(ring), ctx_.device(),
        [this, iteration, epoch](int to, int bucket, int step, const torch::Tensor& values) {
          decentralized::RingChunk c;
          c.set_iteration(iteration);
          c.set_ring_epoch(epoch);
          c.set_bucket(bucket);
          c.set_step(step);
          wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGradient, c);
          appendTensor(m, values);
          ctx_.send(to, std::move(m));
        });
  }
  return *it.ring;
}

Status AllreduceWorker::onStep(const decentralized::Step& step) {
  if (step.ring_epoch() != ring_.ring_epoch()) {
    return invalidArgument("step " + std::to_string(step.iteration()) + " for ring epoch " +
                           std::to_string(step.ring_epoch()) + ", this device is in epoch " +
                           std::to_string(ring_.ring_epoch()));
  }
  ctx_.setIteration(step.iteration());
  auto local = replica_->computeGradients(step.iteration());
  if (!local) return local.status();
  RingAllreduce& ring = ringFor(step.iteration());
  Iteration& it = iterations_[step.iteration()];
  it.computed = true;
  it.local = *local;
  it.reduce_start = std::chrono::steady_clock::now();
  // Flatten each bucket's gradients into one contiguous tensor (the ring sums it in place).
  const auto params = replica_->parameters();
  for (auto p : params) {  // a parameter the loss did not reach still takes part, with zeros
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
  }
  std::vector<torch::Tensor> flat;
  for (const auto& bucket : buckets_) {
    std::vector<torch::Tensor> parts;
    for (size_t k : bucket) parts.push_back(params[k].grad().reshape({-1}));
    flat.push_back(torch::cat(parts));
  }
  ring.start(std::move(flat));
  return finishIfReduced();
}

Status AllreduceWorker::onChunk(const wire::AlgoMessage& m, const decentralized::RingChunk& c) {
  if (c.ring_epoch() != ring_.ring_epoch()) return Status::ok();  // a ring that was re-formed
  auto values = tensorViewsOf(m);
  if (!values) return values.status();
  if (values->size() != 1) {
    return invalidArgument("ring chunk with " + std::to_string(values->size()) + " tensors");
  }
  if (auto st = ringFor(c.iteration()).onChunk(c.bucket(), c.step(), (*values)[0]); !st) return st;
  return finishIfReduced();
}

Status AllreduceWorker::finishIfReduced() {
  for (auto& [number, it] : iterations_) {
    if (!it.computed || it.reported || !it.ring || !it.ring->done()) continue;
    // The averaged gradient goes back into .grad, to be applied on Commit.
    const auto params = replica_->parameters();
    const double n = static_cast<double>(it.ring->size());
    for (size_t b = 0; b < buckets_.size(); ++b) {
      const torch::Tensor& sum = it.ring->buckets()[b];
      int64_t offset = 0;
      for (size_t k : buckets_[b]) {
        torch::Tensor g = params[k].grad();
        const int64_t count = g.numel();
        g.copy_(sum.slice(0, offset, offset + count).view_as(g)).div_(n);
        offset += count;
      }
    }
    it.reported = true;
    decentralized::StepDone done;
    done.set_iteration(number);
    done.set_ring_epoch(ring_.ring_epoch());  // iterations_ holds this epoch's alone
    done.set_loss_sum(it.local.loss_sum);
    done.set_correct(it.local.correct);
    done.set_samples(it.local.samples);
    done.set_compute_s(it.local.compute_s);
    done.set_comm_s(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - it.reduce_start).count());
    ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, done));
  }
  return Status::ok();
}

Status AllreduceWorker::onCommit(const decentralized::Commit& commit) {
  if (commit.ring_epoch() != ring_.ring_epoch()) {
    return invalidArgument("commit of iteration " + std::to_string(commit.iteration()) +
                           " for ring epoch " + std::to_string(commit.ring_epoch()) +
                           ", this device is in epoch " + std::to_string(ring_.ring_epoch()));
  }
  auto it = iterations_.find(commit.iteration());
  if (it == iterations_.end() || !it->second.reported) {
    return invalidArgument("commit of iteration " + std::to_string(commit.iteration()) +
                           ", which this device has not reduced");
  }
  replica_->applyStep(commit.iteration());
  iterations_.erase(iterations_.begin(), std::next(it));
  return Status::ok();
}

Status AllreduceWorker::onRingSetup(const decentralized::RingSetup& setup, bool reply) {
  bool member = false;
  for (int d : setup.ring()) member = member || d == ctx_.device();
  if (!member) {
    return invalidArgument("ring without this device (" + std::to_string(ctx_.device()) + ")");
  }
  ring_ = setup;
  // An uncommitted iteration of the old ring is dropped: its average included a lost device.
  iterations_.clear();
  replica_->zeroGradients();
  if (!reply) return Status::ok();
  decentralized::RingReady ready;
  ready.set_ring_epoch(ring_.ring_epoch());
  ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, ready));
  return Status::ok();
}

}  // namespace edgerig
