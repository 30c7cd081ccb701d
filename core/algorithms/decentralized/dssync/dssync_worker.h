// The agent side of `dssync`: each round a local SGD step on its own shard, then the average of
// its group's models by ring all-reduce over direct links (allreduce's RingAllreduce, over the
// group alone; bucketed so buckets overlap on the wire), then StepDone. The controller names the
// group in each GroupStep. A new RingSetup (a lost device) drops a round in flight: the device
// keeps its locally stepped model.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "core/algorithms/decentralized/allreduce/ring_allreduce.h"
#include "core/algorithms/decentralized/common/decentralized_worker.h"

namespace edgerig {

class DssyncWorker : public DecentralizedWorker {
 public:
  static Result<std::unique_ptr<Worker>> create(WorkerContext& ctx, const wire::WorkerStart& start);

  Status onMessage(const wire::AlgoMessage& message) override;

 private:
  explicit DssyncWorker(WorkerContext& ctx) : DecentralizedWorker(ctx) {}

  Status onStep(const decentralized::GroupStep& step);
  Status onChunk(const wire::AlgoMessage& m, const decentralized::RingChunk& chunk);
  Status onRingSetup(const decentralized::RingSetup& setup);
  Status finishIfAveraged();

  decentralized::RingSetup setup_;
  std::vector<std::vector<size_t>> buckets_;
  struct Chunk {
    int bucket = 0;
    int step = 0;
    torch::Tensor values;
  };
  // The round in progress, and chunks of a round whose GroupStep has not come yet.
  struct Round {
    int64_t iteration = -1;
    std::optional<RingAllreduce> ring;
    LocalStep local;
    bool reported = false;
    std::chrono::steady_clock::time_point reduce_start;
  };
  std::optional<Round> round_;
  std::map<int64_t, std::vector<Chunk>> early_;
};

}  // namespace edgerig
