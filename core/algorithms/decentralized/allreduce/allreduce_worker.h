// The agent side of `allreduce`: computes the gradient of its local batch, averages it with the
// other devices by ring all-reduce over direct links (bucketed, so buckets overlap on the wire),
// reports StepDone, and applies the averaged gradient when the controller commits it.
#pragma once

#include <map>
#include <memory>
#include <optional>

#include "core/algorithms/decentralized/allreduce/ring_allreduce.h"
#include "core/algorithms/decentralized/common/decentralized_worker.h"

namespace edgerig {

class AllreduceWorker : public DecentralizedWorker {
 public:
  static Result<std::unique_ptr<Worker>> create(WorkerContext& ctx, const wire::WorkerStart& start);

  Status onMessage(const wire::AlgoMessage& message) override;

  // Parameters grouped into buckets of about `bucket_bytes`, last layer first (the order the
  // backward pass finishes them, as DDP does): indices into `parameters`.
  static std::vector<std::vector<size_t>> bucketsOf(const std::vector<torch::Tensor>& parameters,
                                                    int64_t bucket_bytes);

 private:
  explicit AllreduceWorker(WorkerContext& ctx) : DecentralizedWorker(ctx) {}

  Status onStep(const decentralized::Step& step);
  Status onChunk(const wire::AlgoMessage& m, const decentralized::RingChunk& chunk);
  Status onCommit(const decentralized::Commit& commit);
  // A new ring; `reply`: tell the controller it is in force (not at start, where WorkerReady does).
  Status onRingSetup(const decentralized::RingSetup& setup, bool reply);
  // The ring of `iteration`, made on its first chunk or its Step.
  RingAllreduce& ringFor(int64_t iteration);
  Status finishIfReduced();

  decentralized::RingSetup ring_;
  std::vector<std::vector<size_t>> buckets_;
  // The iteration in progress: its ring, its local step, when its backward pass ended.
  struct Iteration {
    int64_t number = -1;
    std::optional<RingAllreduce> ring;
    bool computed = false;
    bool reported = false;
    LocalStep local;
    std::chrono::steady_clock::time_point reduce_start;
  };
  std::map<int64_t, Iteration> iterations_;  // the current one, and chunks of the next
};

}  // namespace edgerig
