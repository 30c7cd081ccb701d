#include "core/algorithms/decentralized/allreduce/allreduce.h"

#include "core/algorithms/decentralized/allreduce/allreduce_coordinator.h"
#include "core/algorithms/decentralized/allreduce/allreduce_worker.h"

namespace edgerig {

AlgorithmEntry allreduceEntry() {
  AlgorithmInfo info;
  info.name = "allreduce";
  info.family = "decentralized";
  info.summary =
      "synchronous data-parallel SGD: ring all-reduce of gradients; survives a lost device";
  info.fault_tolerant = true;
  info.params = {
      {"bucketMiB",
       "bucket (MiB)",
       ParamSpec::Kind::kDouble,
       "gradients are reduced in buckets of about this size, so that buckets overlap on the wire",
       2.0,
       0.01,
       1024,
       {}},
  };
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<AllreduceCoordinator>(ctx); },
          &AllreduceWorker::create};
}

}  // namespace edgerig
