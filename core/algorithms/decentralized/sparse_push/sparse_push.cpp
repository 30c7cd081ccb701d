#include "core/algorithms/decentralized/sparse_push/sparse_push.h"

#include "core/algorithms/decentralized/common/gossip_coordinator.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_worker.h"

namespace edgerig {

GossipRules sparsePushRules() {
  GossipRules rules;
  rules.algorithm = "sparse-push";
  rules.weights = &pushSumUniform;
  rules.push_sum = true;
  return rules;
}

AlgorithmEntry sparsePushEntry() {
  AlgorithmInfo info;
  info.name = "sparse-push";
  info.family = "decentralized";
  info.summary =
      "push-sum over directed, time-varying graphs with top-k / random-k compressed, "
      "error-compensated messages (CHOCO-style consensus step); survives a lost device";
  info.fault_tolerant = true;
  info.params = {
      {"k",
       "k (fraction kept)",
       ParamSpec::Kind::kDouble,
       "fraction of each parameter tensor's entries a message carries (at least one per tensor); "
       "1: every entry",
       0.01,
       1e-6,
       1.0,
       {}},
      {"gamma",
       "consensus step γ",
       ParamSpec::Kind::kDouble,
       "how far a round moves towards the neighbours' public copies (ChocoSGD's scripts: "
       "0.4-0.5); 1 with k = 1 is sgp",
       0.5,
       1e-6,
       1.0,
       {}},
      {"compression",
       "compression",
       ParamSpec::Kind::kChoice,
       "which entries a message carries: the largest in magnitude (top-k) or a seeded random "
       "choice (random-k)",
       std::string("top-k"),
       0,
       0,
       {"top-k", "random-k"}},
      {"encoding",
       "encoding",
       ParamSpec::Kind::kChoice,
       "how a message carries its entries: exact (int32 offset and float32 value, 8 bytes an "
       "entry) or compact (varint offset gap and float16 value, about 3-4 bytes an entry; the "
       "rounding stays in the error feedback)",
       std::string("exact"),
       0,
       0,
       {"exact", "compact"}},
      {"skewCompensation",
       "skew compensation",
       ParamSpec::Kind::kDouble,
       "strength s of the non-IID correction (our design, docs/design.md): each local step also "
       "moves by s times the average of past consensus changes; 0: off",
       0.0,
       0.0,
       1.0,
       {}},
  };
  addGossipGraph(
      info, std::string(kOnePeerExponentialGraph), allGraphKinds(),
      "where each device pushes: onepeer-exponential (one peer per round, rotating: SGP's "
      "default), exponential (i → i+2^k), or an undirected graph");
  return {
      std::move(info),
      [](RunContext& ctx) { return std::make_unique<GossipCoordinator>(ctx, sparsePushRules()); },
      [](WorkerContext& ctx, const wire::WorkerStart& start) {
        return GossipWorker::create(sparsePushRules(), std::make_unique<SparsePushGossip>(), ctx,
                                    start);
      }};
}

}  // namespace edgerig
