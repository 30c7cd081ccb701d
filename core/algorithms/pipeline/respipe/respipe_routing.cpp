// respipe's routing, the agent side (RespipeStageWorker, respipe_worker.h): a micro-batch the
// next stage has not acknowledged within τ runs on the replica and goes past it; the controller's
// word that the next stage was lost routes at once; the acknowledgements that teach the adaptive
// τ (our design, docs/design.md respipe 2).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include "core/algorithms/algo_message.h"
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
    if (!successor_lost_) {  // its forward need not run there any more
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
  if (++consecutive_misses_ >= takeover_misses_ && takeover_misses_ > 0) takeover_due_ = true;
  ctx().log()->info(
      "iteration {} micro-batch {}: stage {} missed its {} ms deadline, routed "
      "around it ({} in a row)",
      iteration, m, skipped, currentDeadline().count(), consecutive_misses_);
  finishIfDone(iteration);
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
  auto it = iterations_.find(a.iteration());
  if (it == iterations_.end()) return Status::ok();
  auto mb = it->second.pending.find(a.micro_batch());
  if (mb == it->second.pending.end()) return Status::ok();
  mb->second.acked = true;
  mb->second.deadline.cancel();
  if (!mb->second.routed) {
    consecutive_misses_ = 0;
    ++on_time_run_;
    // On time: its delay teaches the adaptive τ (a late one would teach it to wait for a slow
    // stage, which is what routing avoids). Not while misses are recent: an acknowledgement
    // that just beat τ in a run of misses would raise the median, and τ would follow the
    // slowdown up until nothing is routed.
    if (deadline_adapt_ > 0 && on_time_run_ > kOnTimeToLearn &&
        mb->second.sent != std::chrono::steady_clock::time_point{}) {
      ack_ms_.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                                  mb->second.sent)
                            .count());
      if (ack_ms_.size() > kAckWindow) ack_ms_.pop_front();
    }
  }
  return Status::ok();
}

std::chrono::milliseconds RespipeStageWorker::currentDeadline() const {
  if (deadline_adapt_ <= 0 || ack_ms_.size() < kAckMeasured) return deadline_;
  std::vector<double> sorted(ack_ms_.begin(), ack_ms_.end());
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                   sorted.end());
  const double tau = deadline_adapt_ * sorted[sorted.size() / 2];
  return std::clamp(std::chrono::milliseconds(static_cast<int64_t>(std::ceil(tau))),
                    std::min(kLeastDeadline, deadline_), deadline_);
}

}  // namespace edgerig
