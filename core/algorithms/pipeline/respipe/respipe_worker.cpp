#include "core/algorithms/pipeline/respipe/respipe_worker.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/algorithms/algo_message.h"
#include "core/model/learning_rate.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

constexpr size_t kFinishedKept = 256;  // iterations remembered to recognise late results
constexpr size_t kProbesKept = 64;     // probes of a bypassed stage awaiting their answer

}  // namespace

Result<std::unique_ptr<Worker>> RespipeStageWorker::create(WorkerContext& ctx,
                                                           const wire::WorkerStart& start) {
  std::unique_ptr<RespipeStageWorker> w(new RespipeStageWorker(ctx));
  if (auto st = w->init(start); !st) return st;
  if (auto st = w->initRespipe(); !st) return st;
  return std::unique_ptr<Worker>(std::move(w));
}

Status RespipeStageWorker::initRespipe() {
  const auto& s = stageSetup();
  if (s.boundaries_size() != s.num_stages() + 1) {
    return invalidArgument("respipe stage setup carries " + std::to_string(s.boundaries_size()) +
                           " plan boundaries; expected " + std::to_string(s.num_stages() + 1) +
                           " (an older controller?)");
  }
  redundancy_ = static_cast<int>(ctx().params().getInt("redundancy"));
  refresh_every_ = ctx().params().getInt("refreshEvery");
  deadline_ = std::chrono::milliseconds(ctx().params().getInt("deadlineMs"));
  deadline_adapt_ = ctx().params().getDouble("deadlineAdapt");
  takeover_misses_ = static_cast<int>(ctx().params().getInt("takeoverMisses"));
  span_end_ = stage();
  sendReplicas(0);  // the starting weights: a stage can be routed around from the first batch
  return Status::ok();
}

Status RespipeStageWorker::onMessage(const wire::AlgoMessage& m) {
  if (bodyIs<pipeline::Activations>(m)) {
    auto act = bodyAs<pipeline::Activations>(m);
    if (!act) return act.status();
    if (mustHold(act->iteration(), act->mode())) {
      held_.push_back(m);
      return Status::ok();
    }
    return onActivations(m, *act);
  }
  if (bodyIs<pipeline::Step>(m)) {
    auto step = bodyAs<pipeline::Step>(m);
    if (!step) return step.status();
    if (mustHold(step->iteration(), step->mode())) {
      held_.push_back(m);
      return Status::ok();
    }
    return onStep(*step);
  }
  if (bodyIs<pipeline::Gradients>(m)) {
    auto g = bodyAs<pipeline::Gradients>(m);
    if (!g) return g.status();
    return onGradients(m, *g);
  }
  if (bodyIs<pipeline::ForwardAck>(m)) {
    auto a = bodyAs<pipeline::ForwardAck>(m);
    if (!a) return a.status();
    return onAck(*a);
  }
  if (bodyIs<pipeline::ReplicaGradients>(m)) {
    auto rg = bodyAs<pipeline::ReplicaGradients>(m);
    if (!rg) return rg.status();
    // Behind a held forward of its iteration (same sender, same order): it waits with it.
    if (!replaying_ && !held_.empty()) {
      held_.push_back(m);
      return Status::ok();
    }
    return onReplicaGradients(m, *rg);
  }
  if (bodyIs<pipeline::Replica>(m)) {
    auto r = bodyAs<pipeline::Replica>(m);
    if (!r) return r.status();
    return onReplica(m, *r);
  }
  if (bodyIs<pipeline::RoutedAround>(m)) {
    auto r = bodyAs<pipeline::RoutedAround>(m);
    if (!r) return r.status();
    if (r->stage() == stage() && !finished_.count(r->iteration())) {
      routed_away_[r->iteration()].insert(r->micro_batch());
    }
    return Status::ok();
  }
  if (bodyIs<pipeline::TakeOver>(m)) {  // from the stage that took over one before this one
    auto t = bodyAs<pipeline::TakeOver>(m);
    if (!t) return t.status();
    taken_by_[t->taken()] = static_cast<int>(m.from());
    return Status::ok();
  }
  if (bodyIs<pipeline::FetchReplica>(m)) {
    auto f = bodyAs<pipeline::FetchReplica>(m);
    if (!f) return f.status();
    return onFetchReplica(*f);
  }
  if (bodyIs<pipeline::SuccessorLost>(m)) {
    auto l = bodyAs<pipeline::SuccessorLost>(m);
    if (!l) return l.status();
    onSuccessorLost(l->stage());
    return Status::ok();
  }
  return PipelineStageWorker::onOtherMessage(m);
}

bool RespipeStageWorker::mustHold(int64_t iteration, wire::StepMode mode) const {
  if (replaying_) return false;
  // A late result for an iteration this stage already flushed is discarded (and acknowledged)
  // at once. Held, it would wait behind the iteration in progress, and that iteration's own
  // micro-batches would queue behind it: the stage would never flush again.
  if (finished_.count(iteration)) return false;
  if (!held_.empty()) return true;  // keep the order
  for (const auto& [id, st] : iterations_) {
    if (id != iteration && st.mode == wire::STEP_MODE_TRAIN) return true;
  }
  (void)mode;
  return false;
}

void RespipeStageWorker::replayHeld() {
  if (replaying_) return;  // the loop below goes on
  while (!held_.empty()) {
    const wire::AlgoMessage& next = held_.front();
    // A forward waits for the flush of the iteration before it; replica gradients only follow
    // the forward of their micro-batch, which is ahead of them in this queue.
    int64_t id = 0;
    bool forward = false;
    if (bodyIs<pipeline::Activations>(next)) {
      if (auto a = bodyAs<pipeline::Activations>(next)) id = a->iteration();
      forward = true;
    } else if (bodyIs<pipeline::Step>(next)) {
      if (auto s = bodyAs<pipeline::Step>(next)) id = s->iteration();
      forward = true;
    }
    bool blocked = false;
    for (const auto& [other, st] : iterations_) {
      if (forward && other != id && st.mode == wire::STEP_MODE_TRAIN && !finished_.count(id))
        blocked = true;
    }
    if (blocked) return;
    wire::AlgoMessage m = std::move(held_.front());
    held_.pop_front();
    replaying_ = true;
    Status st = onMessage(m);
    replaying_ = false;
    if (!st) ctx().log()->error("a held {} message failed: {}", bodyName(m), st.message());
  }
}

Status RespipeStageWorker::onStep(const pipeline::Step& step) {
  if (!isFirst()) {
    return invalidArgument("step command sent to stage " + std::to_string(stage()));
  }
  ctx().setIteration(step.iteration());
  const bool train = step.mode() == wire::STEP_MODE_TRAIN;
  auto data = train ? ctx().trainSet() : ctx().testSet();
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
    iterations_[step.iteration()].seen.insert(m);
    if (auto st = forward(step.iteration(), m, step.mode(), actual, batch_size, image_chunks[m],
                          label_chunks[m], {});
        !st) {
      return st;
    }
  }
  return Status::ok();
}

Status RespipeStageWorker::onActivations(const wire::AlgoMessage& msg,
                                         const pipeline::Activations& act) {
  if (isFirst()) return invalidArgument("activations sent to the first stage");
  if (act.stage() != stage() || act.route_size() != stage()) {
    return invalidArgument("activations for stage " + std::to_string(act.stage()) +
                           " with a route of " + std::to_string(act.route_size()) +
                           " devices reached stage " + std::to_string(stage()));
  }
  const int64_t id = act.iteration();
  const int m = act.micro_batch();
  if (act.routed_around()) return onProbe(msg, act);
  // A result that arrives after its replacement was used (or after the iteration ended here).
  pipeline::ForwardAck ack;
  ack.set_iteration(id);
  ack.set_micro_batch(m);
  ack.set_stage(stage());
  if (finished_.count(id) || (iterations_.count(id) && iterations_[id].seen.count(m))) {
    ++discarded_;
    // This stage has the micro-batch covered: the sender need not route around it.
    ctx().send(msg.from(), algoMessage(bridge::TrafficKind::kControl, ack));
    return Status::ok();
  }
  auto tensors = tensorsOf(msg);
  if (!tensors) return tensors.status();
  if (tensors->size() != 2) {
    return invalidArgument("activations carry " + std::to_string(tensors->size()) +
                           " tensors; expected the activations and the labels");
  }
  ctx().setIteration(id);
  iterations_[id].seen.insert(m);
  std::vector<int> route(act.route().begin(), act.route().end());
  if (defersForwards(act.mode())) {
    Iteration& st = iterations_[id];
    if (st.micro_batches == 0) {  // known here even if every forward is skipped
      st.mode = act.mode();
      st.micro_batches = act.micro_batches();
      st.batch_size = act.batch_size();
    }
    waiting_.push_back(Waiting{static_cast<int>(msg.from()), id, m, act.mode(), act.micro_batches(),
                               act.batch_size(), (*tensors)[0], (*tensors)[1], std::move(route)});
    if (!waiting_scheduled_) {
      waiting_scheduled_ = true;
      ctx().schedule(std::chrono::milliseconds(0), [this] { runWaiting(); });
    }
    return Status::ok();
  }
  Status st = forward(id, m, act.mode(), act.micro_batches(), act.batch_size(), (*tensors)[0],
                      (*tensors)[1], std::move(route));
  if (!st) return st;
  ctx().send(msg.from(), algoMessage(bridge::TrafficKind::kControl, ack));
  return Status::ok();
}

bool RespipeStageWorker::defersForwards(wire::StepMode mode) const {
  // As the predecessor guards this stage (forward()): training, a deadline, replicas, not last.
  return mode == wire::STEP_MODE_TRAIN && deadline_.count() > 0 && redundancy_ > 0 && !isFirst() &&
         span_end_ < numStages() - 1;
}

void RespipeStageWorker::runWaiting() {
  waiting_scheduled_ = false;
  while (!waiting_.empty()) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    if (w.probe) {  // run to time this stage's answer; the result is not used
      if (finished_.count(w.iteration)) continue;
      runProbe(w);
      break;
    }
    const auto away = routed_away_.find(w.iteration);
    if (finished_.count(w.iteration) || !iterations_.count(w.iteration) ||
        (away != routed_away_.end() && away->second.count(w.m))) {
      ++skipped_;  // routed around already: its result could only be discarded
      continue;
    }
    ctx().setIteration(w.iteration);
    if (Status st = forward(w.iteration, w.m, w.mode, w.micro_batches, w.batch_size, w.input,
                            w.labels, std::move(w.route));
        !st) {
      ctx().log()->error("forward of micro-batch {} of iteration {}: {}", w.m, w.iteration,
                         st.message());
    }
    pipeline::ForwardAck ack;
    ack.set_iteration(w.iteration);
    ack.set_micro_batch(w.m);
    ack.set_stage(stage());
    ctx().send(w.from, algoMessage(bridge::TrafficKind::kControl, ack));
    break;  // one forward a task: what arrived during it is read before the next
  }
  if (!waiting_.empty() && !waiting_scheduled_) {
    waiting_scheduled_ = true;
    ctx().schedule(std::chrono::milliseconds(0), [this] { runWaiting(); });
  }
}

Status RespipeStageWorker::forward(int64_t iteration, int m, wire::StepMode mode, int micro_batches,
                                   int batch_size, torch::Tensor input, const torch::Tensor& labels,
                                   std::vector<int> route) {
  Iteration& st = iterations_[iteration];
  if (st.micro_batches == 0) {
    st.mode = mode;
    st.micro_batches = micro_batches;
    st.batch_size = batch_size;
  }
  const bool train = mode == wire::STEP_MODE_TRAIN;
  for (int s = stage(); s <= span_end_; ++s) route.push_back(ctx().device());
  bool route_now = false;
  try {
    torch::Tensor output;
    if (train) {
      if (!isFirst()) input = input.detach().requires_grad_(true);
      st.compute_s += timed([&] { output = module()->forward(input); });
      ctx().meter().addSamples(input.size(0));
    } else {
      torch::NoGradGuard no_grad;
      st.compute_s += timed([&] { output = module()->forward(input); });
    }
    ++st.forwards;
    if (endsPipeline()) {
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
        if (!isFirst()) {
          pipeline::Gradients g;
          g.set_iteration(iteration);
          g.set_micro_batch(m);
          g.set_stage(stage() - 1);
          wire::AlgoMessage out = algoMessage(bridge::TrafficKind::kGradient, g);
          appendTensor(out, input.grad());
          ctx().send(route[static_cast<size_t>(stage() - 1)], std::move(out));
        }
      }
    } else {
      const int next = span_end_ + 1;
      // The last stage is never routed around (it reports the loss): a deadline only guards a
      // stage that has a successor, when this device holds a replica of it.
      // Evaluation is not routed: a stage's evaluation ends with its own forward.
      const bool guarded =
          train && deadline_.count() > 0 && redundancy_ > 0 && next < numStages() - 1;
      // No deadline to wait out when the next stage is gone, or bypassed: then every micro-batch
      // goes to the replica at once, and to the next stage as a probe, run there only to time
      // its answer.
      route_now = guarded && (successor_lost_ || (bypass_ && ensureReplica()));
      const bool probe = route_now && !successor_lost_;
      pipeline::Activations a;
      a.set_iteration(iteration);
      a.set_micro_batch(m);
      a.set_mode(mode);
      a.set_micro_batches(micro_batches);
      a.set_batch_size(batch_size);
      a.set_stage(next);
      *a.mutable_route() = {route.begin(), route.end()};
      if (!route_now) {
        wire::AlgoMessage out = algoMessage(bridge::TrafficKind::kActivation, a);
        appendTensor(out, output.detach());
        appendTensor(out, labels);
        ctx().send(deviceOfStage(next), std::move(out));
      } else if (probe) {  // bypassed: routed around already, to be run only as a probe
        a.set_routed_around(true);
        wire::AlgoMessage out = algoMessage(bridge::TrafficKind::kActivation, a);
        appendTensor(out, output.detach());
        ctx().send(deviceOfStage(next), std::move(out));
      }  // a lost device is sent nothing: its link would hold it until it came back
      MicroBatch mb;
      mb.input = input;
      mb.output = output;
      mb.labels = labels;
      mb.route = std::move(route);
      mb.told = route_now;
      if (probe) {
        probes_[{iteration, m}] = Probe{std::chrono::steady_clock::now(), micro_batches};
        while (probes_.size() > kProbesKept) probes_.erase(probes_.begin());
      }
      if (guarded && !route_now) {
        mb.sent = std::chrono::steady_clock::now();
        mb.deadline =
            ctx().schedule(currentDeadline(), [this, iteration, m] { routeAround(iteration, m); });
      }
      st.pending[m] = std::move(mb);
    }
  } catch (const std::exception& e) {
    return torchError("forward pass", e);
  }
  if (route_now) routeAround(iteration, m);
  finishIfDone(iteration);
  return Status::ok();
}

Status RespipeStageWorker::onGradients(const wire::AlgoMessage& msg, const pipeline::Gradients& g) {
  auto tensors = tensorsOf(msg);
  if (!tensors) return tensors.status();
  if (tensors->size() != 1) {
    return invalidArgument("gradients carry " + std::to_string(tensors->size()) +
                           " tensors; expected one");
  }
  if (g.stage() == span_end_) return ownBackward(g.iteration(), g.micro_batch(), (*tensors)[0]);
  if (g.stage() == span_end_ + 1) {
    return replicaBackward(g.iteration(), g.micro_batch(), (*tensors)[0]);
  }
  return invalidArgument("gradients for the output of stage " + std::to_string(g.stage()) +
                         " reached the device running stages " + std::to_string(stage()) + ".." +
                         std::to_string(span_end_));
}

Status RespipeStageWorker::ownBackward(int64_t iteration, int m, const torch::Tensor& grad_output) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end() || !it->second.pending.count(m) ||
      it->second.pending[m].own_backward_done) {
    // The output of a stage that was routed around, after its replacement's came back: late.
    ++discarded_;
    return Status::ok();
  }
  Iteration& st = it->second;
  MicroBatch& mb = st.pending[m];
  try {
    if (!mb.output.sizes().equals(grad_output.sizes())) {
      return invalidArgument("gradients for micro-batch " + std::to_string(m) +
                             " have the wrong shape");
    }
    st.compute_s += timed([&] { mb.output.backward(grad_output); });
    mb.own_backward_done = true;
    ++st.backwards;
    if (!isFirst()) {
      pipeline::Gradients g;
      g.set_iteration(iteration);
      g.set_micro_batch(m);
      g.set_stage(stage() - 1);
      wire::AlgoMessage out = algoMessage(bridge::TrafficKind::kGradient, g);
      appendTensor(out, mb.input.grad());
      ctx().send(mb.route[static_cast<size_t>(stage() - 1)], std::move(out));
    }
  } catch (const std::exception& e) {
    return torchError("backward pass", e);
  }
  if (mb.routed && mb.replica_input.defined()) {  // never backpropagated through the replica
    mb.replica_input = torch::Tensor();
    mb.replica_output = torch::Tensor();
    --routed_in_flight_;
  }
  st.pending.erase(m);
  finishIfDone(iteration);
  return Status::ok();
}

Status RespipeStageWorker::replicaBackward(int64_t iteration, int m,
                                           const torch::Tensor& grad_output) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end() || !it->second.pending.count(m) ||
      !it->second.pending[m].replica_output.defined()) {
    ++discarded_;
    return Status::ok();
  }
  Iteration& st = it->second;
  MicroBatch& mb = st.pending[m];
  torch::Tensor input_grad;
  try {
    std::vector<torch::Tensor> wrt{mb.replica_input};
    std::vector<std::string> names;
    for (const auto& p : replica_->named_parameters()) {
      wrt.push_back(p.value());
      names.push_back(p.key());
    }
    std::vector<torch::Tensor> grads;
    st.compute_s +=
        timed([&] { grads = torch::autograd::grad({mb.replica_output}, wrt, {grad_output}); });
    input_grad = grads[0];
    // The skipped stage's share of this micro-batch goes to its owner.
    pipeline::ReplicaGradients rg;
    rg.set_iteration(iteration);
    rg.set_micro_batch(m);
    rg.set_stage(span_end_ + 1);
    for (const auto& n : names) rg.add_names(n);
    wire::AlgoMessage out = algoMessage(bridge::TrafficKind::kGradient, rg);
    for (size_t i = 1; i < grads.size(); ++i) appendTensor(out, grads[i]);
    ctx().send(deviceOfStage(span_end_ + 1), std::move(out));
    if (st.replica_grad_sum.empty()) {
      for (size_t i = 1; i < grads.size(); ++i)
        st.replica_grad_sum.emplace_back(names[i - 1], grads[i].clone());
    } else {
      for (size_t i = 1; i < grads.size(); ++i) st.replica_grad_sum[i - 1].second.add_(grads[i]);
    }
    ++st.replica_backwards;
  } catch (const std::exception& e) {
    return torchError("backward pass on the replica", e);
  }
  mb.replica_input = torch::Tensor();
  mb.replica_output = torch::Tensor();
  --routed_in_flight_;
  return ownBackward(iteration, m, input_grad);
}

Status RespipeStageWorker::onReplicaGradients(const wire::AlgoMessage& msg,
                                              const pipeline::ReplicaGradients& rg) {
  if (rg.stage() != stage() || span_end_ != stage()) return Status::ok();
  auto tensors = tensorsOf(msg);
  if (!tensors) return tensors.status();
  if (static_cast<int>(tensors->size()) != rg.names_size()) {
    return invalidArgument("replica gradients name " + std::to_string(rg.names_size()) +
                           " tensors and carry " + std::to_string(tensors->size()));
  }
  auto it = iterations_.find(rg.iteration());
  if (it == iterations_.end()) {
    return invalidArgument("replica gradients for iteration " + std::to_string(rg.iteration()) +
                           " that never reached stage " + std::to_string(stage()));
  }
  Iteration& st = it->second;
  try {
    auto params = module()->named_parameters();
    torch::NoGradGuard no_grad;
    for (int i = 0; i < rg.names_size(); ++i) {
      auto* p = params.find(rg.names(i));
      if (p == nullptr) {
        return invalidArgument("replica gradients for parameter '" + rg.names(i) + "' that stage " +
                               std::to_string(stage()) + " does not hold");
      }
      torch::Tensor& grad = p->mutable_grad();
      const torch::Tensor& g = (*tensors)[static_cast<size_t>(i)];
      if (grad.defined()) {
        grad.add_(g);
      } else {
        grad = g.clone();
      }
    }
  } catch (const std::exception& e) {
    return torchError("adding the replica's gradients", e);
  }
  // This micro-batch's result here (if it was ever computed) was not used.
  st.pending.erase(rg.micro_batch());
  ++st.backwards;
  finishIfDone(rg.iteration());
  return Status::ok();
}

void RespipeStageWorker::finishIfDone(int64_t iteration) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end()) return;
  Iteration& st = it->second;
  const bool train = st.mode == wire::STEP_MODE_TRAIN;
  const bool done = st.micro_batches > 0 &&
                    (train ? st.backwards == st.micro_batches : st.forwards == st.micro_batches);
  if (!done) return;
  if (train) {
    st.compute_s += timed([&] {
      setLearningRate(optimizer(), ctx().run(), iteration);
      optimizer().step();
      optimizer().zero_grad();
    });
  }
  for (auto& [m, mb] : st.pending) {
    mb.deadline.cancel();
    if (mb.replica_output.defined()) --routed_in_flight_;
  }
  pipeline::StepDone d;
  d.set_iteration(iteration);
  d.set_stage(stage());
  d.set_mode(st.mode);
  d.set_loss_sum(st.loss_sum);
  d.set_correct(st.correct);
  d.set_samples(st.samples);
  d.set_compute_s(st.compute_s);
  d.set_routed(st.routed);
  if (st.routed > 0) d.add_routed_around(span_end_ + 1);
  d.set_discarded(discarded_);
  discarded_ = 0;
  d.set_skipped(skipped_);
  skipped_ = 0;
  if (bypass_ || bypassed_since_flush_) d.set_bypassing(span_end_ + 1);
  bypassed_since_flush_ = bypass_;
  d.set_deadline_ms(static_cast<int32_t>(currentDeadline().count()));
  if (train) afterFlush(iteration, st);
  ctx().sendToController(algoMessage(bridge::TrafficKind::kControl, d));
  iterations_.erase(iteration);
  routed_away_.erase(iteration);
  finished_.insert(iteration);
  while (finished_.size() > kFinishedKept) finished_.erase(finished_.begin());
  if (takeover_due_ && iterations_.empty()) takeOver();
  replayHeld();
}

void RespipeStageWorker::afterFlush(int64_t iteration, Iteration& st) {
  const int64_t seen = iteration + 1;  // mini-batches trained after this flush
  // Every micro-batch went through the replica: it takes the owner's step itself, so the next
  // routed micro-batch sees what the owner will have (exactly, when the replica was fresh).
  if (replica_ && st.replica_backwards == st.micro_batches && replica_optimizer_) {
    try {
      torch::NoGradGuard no_grad;
      auto params = replica_->named_parameters();
      for (auto& [name, g] : st.replica_grad_sum) {
        if (auto* p = params.find(name)) p->mutable_grad() = g;
      }
      setLearningRate(*replica_optimizer_, ctx().run(), iteration);
      replica_optimizer_->step();
      replica_optimizer_->zero_grad();
      replica_iteration_ = seen;
    } catch (const std::exception& e) {
      ctx().log()->error("stepping the replica of stage {}: {}", replica_stage_, e.what());
    }
  }
  if (refresh_every_ > 0 && seen % refresh_every_ == 0) sendReplicas(seen);
}

}  // namespace edgerig
