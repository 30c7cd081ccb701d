// respipe's routing, the agent side (RespipeStageWorker, respipe_worker.h): a micro-batch the
// next stage has not acknowledged within τ runs on the replica and goes past it; the controller's
// word that the next stage was lost routes at once; the acknowledgements that teach the adaptive
// τ; the bypass of a stage that keeps missing τ, and its probes, on both sides (our design,
// docs/design.md respipe 2).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/pipeline/respipe/respipe.h"
#include "core/algorithms/pipeline/respipe/respipe_worker.h"
#include "core/model/tensor_codec.h"

namespace edgerig {
namespace {

// The adaptive τ: the acknowledgements it takes the median of, how many it needs first, and the
// shortest τ it sets (scheduling jitter alone would miss anything shorter).
constexpr size_t kAckWindow = 16;
constexpr size_t kAckMeasured = 4;
constexpr size_t kOnTimeToLearn = 4;  // on time in a row since the last miss, before learning
constexpr auto kLeastDeadline = std::chrono::milliseconds(5);
// Bypass (our design, docs/design.md respipe 2): this many misses among the last guarded
// micro-batches make a stage route around the next one at once (probing it with each).
constexpr size_t kOutcomeWindow = 8;
constexpr int kMissesToBypass = 3;
constexpr size_t kProbeIterationsKept = 16;  // iterations whose probes are tallied
// A bypass entered within this many iterations of the last one's end doubles the good probe
// iterations (all answered within τ, in a row) that end it, up to the most.
constexpr int64_t kFlapIterations = 16;
constexpr int kMostProbeIterations = 64;

}  // namespace

void RespipeStageWorker::routeAround(int64_t iteration, int m) {
  auto it = iterations_.find(iteration);
  if (it == iterations_.end() || !it->second.pending.count(m)) return;
  Iteration& st = it->second;
  MicroBatch& mb = st.pending[m];
  if (mb.acked || mb.routed) return;
  if (!ensureReplica()) return;  // nothing to route with: wait for the stage
  const int skipped = span_end_ + 1;
  const int next = skipped + 1;
  const bool train = st.mode == wire::STEP_MODE_TRAIN;
  try {
    torch::Tensor in = mb.output.detach();
    torch::Tensor out;
    if (train) {
      in.requires_grad_(true);
      st.compute_s += timed([&] { out = replica_->forward(in); });
      mb.replica_input = in;
      mb.replica_output = out;
      ++routed_in_flight_;
    } else {
      torch::NoGradGuard no_grad;
      st.compute_s += timed([&] { out = replica_->forward(in); });
    }
    mb.routed = true;
    ++st.routed;
    std::vector<int> route = mb.route;
    route.push_back(ctx().device());  // this device ran the skipped stage
    pipeline::Activations a;
    a.set_iteration(iteration);
    a.set_micro_batch(m);
    a.set_mode(st.mode);
    a.set_micro_batches(st.micro_batches);
    a.set_batch_size(st.batch_size);
    a.set_stage(next);
    *a.mutable_route() = {route.begin(), route.end()};
    wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kActivation, a);
    appendTensor(msg, out.detach());
    appendTensor(msg, mb.labels);
    ctx().send(deviceOfStage(next), std::move(msg));
    if (!successor_lost_ && !mb.told) {  // its forward need not run there any more
      pipeline::RoutedAround notice;
      notice.set_iteration(iteration);
      notice.set_micro_batch(m);
      notice.set_stage(skipped);
      ctx().send(deviceOfStage(skipped), algoMessage(bridge::TrafficKind::kControl, notice));
    }
  } catch (const std::exception& e) {
    ctx().log()->error("routing micro-batch {} of iteration {} around stage {}: {}", m, iteration,
                       skipped, e.what());
    return;
  }
  on_time_run_ = 0;
  // Toward the take-over: a missed deadline counts; a micro-batch routed at once does not (a
  // bypass routes them as fast as this stage computes, so F of them would say nothing of how
  // long the next stage has been silent). A bypass instead takes the stage over once the stage
  // has not answered within τ for as long as F misses take without it: the M micro-batches of
  // an iteration wait out their deadlines together, so F misses take ⌈F/M⌉ deadlines.
  // (Routed because the stage was lost is no miss either: the take-over is due already.)
  const bool missed = !mb.told && !successor_lost_;
  if (missed && ++consecutive_misses_ >= takeover_misses_ && takeover_misses_ > 0) {
    takeover_due_ = true;
  }
  if (mb.told && bypass_ && takeover_misses_ > 0) {
    const int per_deadline = std::max(1, st.micro_batches);
    const int deadlines = (takeover_misses_ + per_deadline - 1) / per_deadline;
    if (std::chrono::steady_clock::now() - last_answer_ >= deadlines * currentDeadline()) {
      takeover_due_ = true;
    }
  }
  if (!missed) {
    ctx().log()->debug("iteration {} micro-batch {}: routed around stage {} at once ({})",
                       iteration, m, skipped, successor_lost_ ? "lost" : "bypassed");
  } else {
    ctx().log()->info(
        "iteration {} micro-batch {}: stage {} missed its {} ms deadline, routed "
        "around it ({} in a row)",
        iteration, m, skipped, currentDeadline().count(), consecutive_misses_);
    recordOutcome(true);
  }
  finishIfDone(iteration);
}

void RespipeStageWorker::recordOutcome(bool missed) {
  outcomes_.push_back(missed);
  if (outcomes_.size() > kOutcomeWindow) outcomes_.pop_front();
  if (bypass_ || std::count(outcomes_.begin(), outcomes_.end(), true) < kMissesToBypass) return;
  bypass_ = true;
  bypassed_since_flush_ = true;
  good_probe_iterations_ = 0;
  bypass_started_at_ = finished_.empty() ? 0 : *finished_.rbegin();
  // Back in the bypass soon after it ended: the probes (forwards alone, no backward behind them)
  // were answered faster than real work is. Each such flap doubles the good iterations the
  // next end needs; a long stretch without the bypass forgets it.
  const int64_t last = finished_.empty() ? 0 : *finished_.rbegin();
  probe_iterations_needed_ = bypass_ended_at_ >= 0 && last - bypass_ended_at_ < kFlapIterations
                                 ? std::min(probe_iterations_needed_ * 2, kMostProbeIterations)
                                 : 1;
  ctx().log()->info(
      "stage {} missed {} of its last {} deadlines: routing around it at once, probing it with "
      "every micro-batch",
      span_end_ + 1, kMissesToBypass, outcomes_.size());
}

Status RespipeStageWorker::onProbe(const wire::AlgoMessage& msg, const pipeline::Activations& act) {
  // Bypassed: routed around this stage before it was sent; its replica gradients follow. With
  // tensors it is a probe: run (and acknowledged) only to time this stage, its result unused.
  const int64_t id = act.iteration();
  const int m = act.micro_batch();
  if (finished_.count(id) || (iterations_.count(id) && iterations_[id].seen.count(m))) {
    return Status::ok();
  }
  Iteration& st = iterations_[id];
  if (st.micro_batches == 0) {
    st.mode = act.mode();
    st.micro_batches = act.micro_batches();
    st.batch_size = act.batch_size();
  }
  st.seen.insert(m);
  ++skipped_;
  if (msg.tensors_size() == 0) return Status::ok();
  auto tensors = tensorsOf(msg);
  if (!tensors) return tensors.status();
  if (tensors->empty()) return invalidArgument("a probe carries no activations");
  Waiting w;
  w.from = static_cast<int>(msg.from());
  w.iteration = id;
  w.m = m;
  w.mode = act.mode();
  w.micro_batches = act.micro_batches();
  w.batch_size = act.batch_size();
  w.input = (*tensors)[0];
  w.probe = true;
  waiting_.push_back(std::move(w));  // behind the forwards that arrived before it, as they would
  if (!waiting_scheduled_) {
    waiting_scheduled_ = true;
    ctx().schedule(std::chrono::milliseconds(0), [this] { runWaiting(); });
  }
  return Status::ok();
}

void RespipeStageWorker::runProbe(const Waiting& w) {
  try {
    torch::NoGradGuard no_grad;
    timed([&] { (void)module()->forward(w.input); });
  } catch (const std::exception& e) {
    ctx().log()->error("probe of iteration {}: {}", w.iteration, e.what());
  }
  pipeline::ForwardAck ack;
  ack.set_iteration(w.iteration);
  ack.set_micro_batch(w.m);
  ack.set_stage(stage());
  ctx().send(w.from, algoMessage(bridge::TrafficKind::kControl, ack));
}

void RespipeStageWorker::onSuccessorLost(int lost_stage) {
  if (lost_stage != span_end_ + 1 || redundancy_ <= 0 || deadline_.count() <= 0) return;
  if (lost_stage >= numStages() - 1) return;  // the last stage is never routed around
  successor_lost_ = true;
  takeover_due_ = true;
  ctx().log()->warn(
      "stage {} was lost: routing around it at once, taking it over at the next "
      "flush",
      lost_stage);
  // What waits for its deadline goes now (in micro-batch order; a flush may end the iteration).
  std::vector<std::pair<int64_t, int>> waiting;
  for (const auto& [iteration, st] : iterations_) {
    if (st.mode != wire::STEP_MODE_TRAIN) continue;
    for (const auto& [m, mb] : st.pending) {
      if (!mb.acked && !mb.routed) waiting.emplace_back(iteration, m);
    }
  }
  for (const auto& [iteration, m] : waiting) {
    auto it = iterations_.find(iteration);
    if (it == iterations_.end() || !it->second.pending.count(m)) continue;
    it->second.pending[m].deadline.cancel();
    routeAround(iteration, m);
  }
  if (takeover_due_ && iterations_.empty()) takeOver();
}

Status RespipeStageWorker::onAck(const pipeline::ForwardAck& a) {
  // Only the next stage's answers time it: the stage after it acknowledges the micro-batches
  // routed to it too (same iteration and micro-batch), and must not pass for a probe's answer.
  if (a.stage() != span_end_ + 1) return Status::ok();
  if (auto p = probes_.find({a.iteration(), a.micro_batch()}); p != probes_.end()) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - p->second.sent)
            .count();
    const int micro_batches = p->second.micro_batches;
    probes_.erase(p);
    if (!bypass_) return Status::ok();
    const double tau = static_cast<double>(currentDeadline().count());
    while (probes_on_time_.size() > kProbeIterationsKept)
      probes_on_time_.erase(probes_on_time_.begin());
    int& on_time = probes_on_time_[a.iteration()];
    if (ms <= tau) {  // slow, perhaps, but not gone
      consecutive_misses_ = 0;
      last_answer_ = std::chrono::steady_clock::now();
    }
    // A probe is a forward alone, where a micro-batch's acknowledgement without the bypass
    // also waited behind backwards: it must come back within τ/2 to count, or within τ once the
    // bypass has lasted kRespipeLongBypassIterations (a stage let back in too early misses again
    // and is bypassed again, its next end needing twice the good iterations).
    const bool long_bypass = a.iteration() - bypass_started_at_ >= kRespipeLongBypassIterations;
    const double on_time_ms = long_bypass ? tau : tau / 2;
    if (ms > on_time_ms) {
      on_time = -1;  // this iteration cannot end the bypass
      good_probe_iterations_ = 0;
      return Status::ok();
    }
    // Every micro-batch of an iteration answered within τ/2: one more good iteration. Enough of
    // them in a row end the bypass.
    if (on_time < 0 || ++on_time < micro_batches) return Status::ok();
    if (++good_probe_iterations_ < probe_iterations_needed_) return Status::ok();
    bypass_ = false;
    outcomes_.clear();
    probes_on_time_.clear();
    bypass_ended_at_ = a.iteration();
    ctx().log()->info(
        "stage {} answered every probe of {} iteration(s) within {} ms ({} of τ, bypassed since "
        "iteration {}): no longer bypassed",
        span_end_ + 1, probe_iterations_needed_, on_time_ms, long_bypass ? "all" : "half",
        bypass_started_at_);
    return Status::ok();
  }
  auto it = iterations_.find(a.iteration());
  if (it == iterations_.end()) return Status::ok();
  auto mb = it->second.pending.find(a.micro_batch());
  if (mb == it->second.pending.end()) return Status::ok();
  mb->second.acked = true;
  mb->second.deadline.cancel();
  if (!mb->second.routed) {
    consecutive_misses_ = 0;
    last_answer_ = std::chrono::steady_clock::now();
    ++on_time_run_;
    recordOutcome(false);
    const bool measured = mb->second.sent != std::chrono::steady_clock::time_point{};
    const double ms = measured ? std::chrono::duration<double, std::milli>(
                                     std::chrono::steady_clock::now() - mb->second.sent)
                                     .count()
                               : 0.0;
    // On time: its delay teaches the adaptive τ (a late one would teach it to wait for a slow
    // stage, which is what routing avoids). Not while misses are recent: an acknowledgement
    // that just beat τ in a run of misses would raise the median, and τ would follow the
    // slowdown up until nothing is routed.
    if (on_time_run_ > kOnTimeToLearn && measured) {
      ack_ms_.push_back(ms);
      if (ack_ms_.size() > kAckWindow) ack_ms_.pop_front();
    }
  }
  return Status::ok();
}

namespace {

double median(const std::deque<double>& values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                   sorted.end());
  return sorted[sorted.size() / 2];
}

}  // namespace

std::chrono::milliseconds RespipeStageWorker::currentDeadline() const {
  if (deadline_adapt_ <= 0 || ack_ms_.size() < kAckMeasured) return deadline_;
  const double tau = deadline_adapt_ * median(ack_ms_);
  return std::clamp(std::chrono::milliseconds(static_cast<int64_t>(std::ceil(tau))),
                    std::min(kLeastDeadline, deadline_), deadline_);
}

}  // namespace edgerig
