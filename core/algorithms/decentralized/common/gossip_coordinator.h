// The controller side of a gossip algorithm (dpsgd, sgp): starts one GossipWorker per device
// with the graph's declaration (each round's graph follows from it, the seed and the round),
// runs rounds, publishes every round's graph when it changes (graph.csv, the views), measures
// the consensus distance and the devices' averaged model at each evaluation, and survives lost
// devices: the graph is drawn again over the survivors (its weights re-normalised) and the
// round in progress ends with what each device had received.
#pragma once

#include "core/algorithms/coordinator.h"
#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "decentralized.pb.h"

namespace edgerig {

// What every gossip algorithm's entry declares about its graph: `graph` (of `kinds`, `help` for
// the form, `default_kind` when unset), `degree` and `redrawEvery`; appended to `info.params`,
// and `info.check` set to check the declared graph against the device count.
void addGossipGraph(AlgorithmInfo& info, const std::string& default_kind,
                    std::vector<std::string> kinds, const std::string& help);

class GossipCoordinator : public Coordinator {
 public:
  GossipCoordinator(RunContext& ctx, GossipRules rules);

  Status setup() override;
  int64_t iterationsPerEpoch() const override;
  int64_t trainSize() const override { return train_size_; }
  Result<StepResult> trainStep(int64_t iteration) override;
  Result<EvalResult> evaluate(int64_t samples) override;
  std::string layoutDescription() const override;
  Result<wire::ModelStateBlob> gatherState() override;
  void startFrom(wire::ModelStateBlob state) override { initial_state_ = std::move(state); }
  // The devices' mean weights and mean momentum (docs/design.md: a switch's handover).
  Result<Handover> gatherHandover() override;
  void startFrom(Handover handover) override {
    initial_state_ = std::move(handover.weights);
    initial_momentum_ = std::move(handover.optimizer);
  }

  // The graph declared by an experiment's `algorithm.graph`, `degree`, `redrawEvery` and seed.
  static GraphSpec declaredGraph(const ExperimentConfig& config);

 protected:
  // Hooks for an algorithm that steers its rounds (edgegossip): before a round's steps go out
  // (the members are this round's), each device's step, and the round's result.
  virtual void beginRound(int64_t /*iteration*/) {}
  virtual void prepareStep(int /*device*/, decentralized::GossipStep& /*step*/) {}
  virtual void roundDone(int64_t /*iteration*/, const StepResult& /*result*/) {}
  std::vector<int> members() const;

  RunContext& ctx_;

 private:
  Status start(const std::vector<int>& devices);
  // Drops lost devices from the graph: a new epoch, GossipSetup to the survivors, each answers
  // GossipReady (a round they were in is cut short first). Fails if nobody is left.
  Status regraph(const std::string& why);
  Status regraphIfLost(const std::string& why);
  void publishGraph(int64_t round, bool scheduled, const std::string& why);

  GossipRules rules_;
  decentralized::GossipSetup setup_;
  int64_t train_size_ = 0;
  int64_t test_size_ = 0;
  int64_t eval_counter_ = 0;
  bool announce_ = true;  // the next round's graph is published as a change, not a rotation
  wire::ModelStateBlob initial_state_;
  wire::ModelStateBlob initial_momentum_;  // empty: fresh momentum
};

}  // namespace edgerig
