// What every decentralized worker (allreduce, the gossip algorithms) does the same way: a whole-
// model replica built from the WorkerStart, whose setup message it unpacks first; describe()
// and state() from that replica; and evaluating it on a slice of the test split (Evaluate →
// EvalDone).
#pragma once

#include <memory>
#include <string>

#include "core/algorithms/decentralized/common/model_replica.h"
#include "decentralized.pb.h"

namespace edgerig {

class DecentralizedWorker : public Worker {
 public:
  void describe(wire::WorkerReady& ready) const override;
  Result<wire::StateReply> state(bool optimizer) override { return replica_->state(optimizer); }

 protected:
  explicit DecentralizedWorker(WorkerContext& ctx) : ctx_(ctx) {}

  // Unpacks `start.setup` into `setup` ("<algorithm> worker start without a RingSetup (got …)"
  // otherwise), then builds the replica.
  template <typename Setup>
  Status begin(const std::string& algorithm, const wire::WorkerStart& start, Setup& setup) {
    if (!start.setup().UnpackTo(&setup)) {
      return invalidArgument(algorithm + " worker start without a " + Setup::descriptor()->name() +
                             " (got " + start.setup().type_url() + ")");
    }
    return buildReplica(start);
  }

  // An Evaluate message: evaluates the replica (or the model the message carries, leaving the
  // replica as it was) on the requested test samples and answers EvalDone.
  Status onEvaluate(const wire::AlgoMessage& m);

  WorkerContext& ctx_;
  std::unique_ptr<ModelReplica> replica_;

 private:
  Status buildReplica(const wire::WorkerStart& start);
};

}  // namespace edgerig
