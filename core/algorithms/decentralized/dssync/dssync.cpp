#include "core/algorithms/decentralized/dssync/dssync.h"

#include "core/algorithms/decentralized/dssync/dssync_coordinator.h"
#include "core/algorithms/decentralized/dssync/dssync_worker.h"

namespace edgerig {

AlgorithmEntry dssyncEntry() {
  AlgorithmInfo info;
  info.name = "dssync";
  info.family = "decentralized";
  info.summary =
      "divide and shuffle: groups that do not cross a measured bottleneck average by ring "
      "all-reduce, reshuffled from the seed; survives a lost device";
  info.fault_tolerant = true;
  info.params = {
      {"groupSize",
       "group size g",
       ParamSpec::Kind::kInt,
       "largest group inside a site; g >= the device count is one group of all: allreduce",
       int64_t{4},
       2,
       1024,
       {}},
      {"shuffleEvery",
       "shuffle every R rounds",
       ParamSpec::Kind::kInt,
       "ordinary rounds between rotations of the groups inside a site",
       int64_t{1},
       1,
       1000000,
       {}},
      {"bridgeEvery",
       "bridge every",
       ParamSpec::Kind::kInt,
       "every this many rounds, a bridge round puts one device of every site together",
       int64_t{4},
       2,
       1000000,
       {}},
      {"bottleneckRatio",
       "bottleneck ratio",
       ParamSpec::Kind::kDouble,
       "the largest gap in the sorted measured link speeds is a bottleneck when it is at least "
       "this ratio",
       4.0,
       1.5,
       1e6,
       {}},
      {"fastLinkMbps",
       "fast link (Mbit/s)",
       ParamSpec::Kind::kDouble,
       "a link measured at least this fast is never a bottleneck (0: no floor)",
       1000.0,
       0.0,
       1e9,
       {}},
      {"bucketMiB",
       "bucket (MiB)",
       ParamSpec::Kind::kDouble,
       "models are averaged in buckets of about this size, so that buckets overlap on the wire",
       2.0,
       0.01,
       1024,
       {}},
  };
  return {std::move(info), [](RunContext& ctx) { return std::make_unique<DssyncCoordinator>(ctx); },
          &DssyncWorker::create};
}

}  // namespace edgerig
