// Ring all-reduce of flat float32 buckets: a reduce-scatter then an all-gather, n−1 steps each,
// every device sending one chunk per step to its right neighbour and receiving one from its
// left (Patarasuk & Yuan; what NCCL and Gloo's ring do). All buckets start at once, so the
// steps of one bucket overlap the others' on the link. Transport-agnostic: the caller sends
// chunks and hands over the ones that arrive, in any order. Used by `allreduce`, and by
// `dssync` inside its groups.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

class RingAllreduce {
 public:
  // Sends `values` (a view into the bucket: copy it before returning if it must outlive the
  // call) as step `step` of bucket `bucket` to device `to`.
  using SendChunk = std::function<void(int to, int bucket, int step, const torch::Tensor& values)>;

  // `ring`: device indices in ring order; `me` must be one of them.
  RingAllreduce(std::vector<int> ring, int me, SendChunk send);

  int size() const { return static_cast<int>(ring_.size()); }
  int steps() const { return 2 * (size() - 1); }

  // Starts summing `buckets` (contiguous float32, changed in place) over the ring. A ring of one
  // is done at once.
  void start(std::vector<torch::Tensor> buckets);
  // A chunk from the left neighbour. Chunks that come before start() or ahead of their turn wait.
  Status onChunk(int bucket, int step, const torch::Tensor& values);
  bool started() const { return started_; }
  bool done() const { return started_ && finished_ == static_cast<int>(buckets_.size()); }
  // The summed buckets (after done()).
  const std::vector<torch::Tensor>& buckets() const { return buckets_; }

  // Chunk c of a bucket of `numel` elements split n ways: [begin, end).
  static std::pair<int64_t, int64_t> chunkRange(int64_t numel, int n, int c);

 private:
  void sendStep(int bucket, int step);
  Status apply(int bucket, int step, const torch::Tensor& values);
  int chunkSent(int step) const;      // chunk index sent at `step`
  int chunkReceived(int step) const;  // chunk index received at `step`

  std::vector<int> ring_;
  int position_ = 0;  // of me in ring_
  int right_ = 0;     // device index
  SendChunk send_;
  std::vector<torch::Tensor> buckets_;
  std::vector<int> next_step_;  // per bucket: the step whose chunk is awaited
  int finished_ = 0;
  bool started_ = false;
  std::map<std::pair<int, int>, torch::Tensor> early_;  // (bucket, step) → values
};

}  // namespace edgerig
