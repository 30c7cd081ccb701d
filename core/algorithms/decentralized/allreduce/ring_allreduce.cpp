#include "core/algorithms/decentralized/allreduce/ring_allreduce.h"

#include <algorithm>

namespace edgerig {

RingAllreduce::RingAllreduce(std::vector<int> ring, int me, SendChunk send)
    : ring_(std::move(ring)), send_(std::move(send)) {
  const auto it = std::find(ring_.begin(), ring_.end(), me);
  position_ = it == ring_.end() ? 0 : static_cast<int>(it - ring_.begin());
  right_ = ring_.empty() ? me : ring_[static_cast<size_t>((position_ + 1) % size())];
}

std::pair<int64_t, int64_t> RingAllreduce::chunkRange(int64_t numel, int n, int c) {
  return {numel * c / n, numel * (c + 1) / n};
}

int RingAllreduce::chunkSent(int step) const {
  const int n = size();
  // Reduce-scatter step s sends chunk (r − s); all-gather step s sends chunk (r + 1 − s).
  const int c = step < n - 1 ? position_ - step : position_ + 1 - (step - (n - 1));
  return ((c % n) + n) % n;
}

int RingAllreduce::chunkReceived(int step) const {
  const int n = size();
  const int c = step < n - 1 ? position_ - step - 1 : position_ - (step - (n - 1));
  return ((c % n) + n) % n;
}

void RingAllreduce::sendStep(int bucket, int step) {
  const torch::Tensor& b = buckets_[static_cast<size_t>(bucket)];
  const auto [begin, end] = chunkRange(b.numel(), size(), chunkSent(step));
  send_(right_, bucket, step, b.slice(0, begin, end));
}

void RingAllreduce::start(std::vector<torch::Tensor> buckets) {
  buckets_ = std::move(buckets);
  next_step_.assign(buckets_.size(), 0);
  finished_ = 0;
  started_ = true;
  if (size() <= 1) {
    finished_ = static_cast<int>(buckets_.size());
    return;
  }
  for (int b = 0; b < static_cast<int>(buckets_.size()); ++b) sendStep(b, 0);
  // Chunks that arrived before we started.
  for (int b = 0; b < static_cast<int>(buckets_.size()); ++b) {
    for (;;) {
      auto it = early_.find({b, next_step_[static_cast<size_t>(b)]});
      if (it == early_.end()) break;
      torch::Tensor values = std::move(it->second);
      early_.erase(it);
      if (auto st = apply(b, next_step_[static_cast<size_t>(b)], values); !st) return;
    }
  }
}

Status RingAllreduce::onChunk(int bucket, int step, const torch::Tensor& values) {
  if (step < 0 || step >= steps() || bucket < 0) {
    return invalidArgument("ring chunk for bucket " + std::to_string(bucket) + " step " +
                           std::to_string(step) + " of a ring of " + std::to_string(size()));
  }
  if (!started_ || bucket >= static_cast<int>(buckets_.size()) ||
      step != next_step_[static_cast<size_t>(bucket)]) {
    if (started_ && bucket >= static_cast<int>(buckets_.size())) {
      return invalidArgument("ring chunk for bucket " + std::to_string(bucket) + " of " +
                             std::to_string(buckets_.size()));
    }
    early_[{bucket, step}] = values.clone();  // the caller's view dies with its message
    return Status::ok();
  }
  if (auto st = apply(bucket, step, values); !st) return st;
  // Its successors may be here already.
  for (;;) {
    auto it = early_.find({bucket, next_step_[static_cast<size_t>(bucket)]});
    if (it == early_.end()) break;
    torch::Tensor v = std::move(it->second);
    early_.erase(it);
    if (auto st = apply(bucket, next_step_[static_cast<size_t>(bucket)], v); !st) return st;
  }
  return Status::ok();
}

Status RingAllreduce::apply(int bucket, int step, const torch::Tensor& values) {
  torch::Tensor& b = buckets_[static_cast<size_t>(bucket)];
  const auto [begin, end] = chunkRange(b.numel(), size(), chunkReceived(step));
  if (values.numel() != end - begin) {
    return invalidArgument("ring chunk for bucket " + std::to_string(bucket) + " step " +
                           std::to_string(step) + " has " + std::to_string(values.numel()) +
                           " values, expected " + std::to_string(end - begin));
  }
  torch::Tensor target = b.slice(0, begin, end);
  if (step < size() - 1) {
    target.add_(values.reshape({-1}));
  } else {
    target.copy_(values.reshape({-1}));
  }
  const int next = step + 1;
  next_step_[static_cast<size_t>(bucket)] = next;
  if (next < steps()) {
    sendStep(bucket, next);
  } else {
    ++finished_;
  }
  return Status::ok();
}

}  // namespace edgerig
