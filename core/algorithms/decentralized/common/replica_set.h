// The controller side of what every decentralized algorithm does with its devices' models:
// gather them and average (an algorithm switch, a rejoin), measure how far apart they are, and
// evaluate each one on its own and their average.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/algorithms/coordinator.h"
#include "core/model/model_state.h"

namespace edgerig {

// The models of `devices` (FetchState), in the order of `devices`; with `optimizer`, their
// momentum too (empty states for a device that has none yet). A device lost meanwhile fails it
// (kUnavailable).
struct GatheredModels {
  std::vector<ModelState> weights;
  std::vector<ModelState> momenta;
};
Result<GatheredModels> gatherModels(RunContext& ctx, const std::vector<int>& devices,
                                    bool optimizer);

// The consensus distance of a decentralized family's models (Kong et al., ICML 2021):
// sqrt((1/n) Σ_i ||x_i − x̄||²) over every floating-point tensor, x̄ their mean. 0 when they agree.
Result<double> consensusDistance(const std::vector<ModelState>& models);

// FetchState from each of `devices`, then the element-wise mean of their weights (and, with
// `optimizer`, of their momentum). A device lost meanwhile fails it (kUnavailable).
Result<wire::StateReply> gatherAverage(RunContext& ctx, const std::vector<int>& devices,
                                       bool optimizer);
// gatherAverage's averaged weights alone (a coordinator's gatherState).
Result<wire::ModelStateBlob> gatherAverageWeights(RunContext& ctx, const std::vector<int>& devices);
// gatherAverage's weights and momentum (a coordinator's gatherHandover: a switch or a restart
// goes on with the momentum the devices had, averaged as the weights are).
Result<Coordinator::Handover> gatherAverageHandover(RunContext& ctx,
                                                    const std::vector<int>& devices);

// Evaluate (decentralized.proto) on each of `devices`, each with its own model: a periodic
// evaluation (samples > 0) on the same first `samples` test samples everywhere, so the devices'
// accuracies compare, and the run-level figures are their mean; the final one (samples == 0)
// on the whole test split of `test_size`, cut into one slice per device (every device
// evaluating all of it would cost devices × the compute), and the run-level figures count every
// sample once.
Result<EvalResult> evaluateEach(RunContext& ctx, const std::vector<int>& devices, int64_t samples,
                                int64_t test_size, int64_t eval_id);

// One model (the devices' averaged model) evaluated by `devices` together: sent to each with a
// slice of the first `samples` test samples (the whole split of `test_size` when samples == 0),
// every sample counted once; the devices' own models are left as they are.
Result<EvalResult> evaluateModel(RunContext& ctx, const std::vector<int>& devices,
                                 const ModelState& model, int64_t samples, int64_t test_size,
                                 int64_t eval_id);

// A decentralized run's evaluation where the devices' models differ (gossip, dssync): gathers
// them and writes the run metric consensus_distance, evaluates their averaged model
// (evaluateModel: averaged_model_accuracy and averaged_model_loss), then each device's own
// (evaluateEach, whose result it returns with the average's accuracy in it). `eval_counter`
// numbers the two evaluations.
Result<EvalResult> evaluateModelsAndTheirAverage(RunContext& ctx, const std::vector<int>& devices,
                                                 int64_t samples, int64_t test_size,
                                                 int64_t& eval_counter);

// What the family's coordinators do the same way around their devices' replicas.

// "dev0, dev2, dev3": the devices' names, for events.
std::string deviceNames(RunContext& ctx, const std::vector<int>& devices);

// Starts `algorithm` (`start`) on every device alive now; when a device is lost while it starts
// (kUnavailable), again on the survivors, up to `attempts` times.
Status startOnAliveDevices(RunContext& ctx, const std::string& algorithm, int attempts,
                           const std::function<Status(const std::vector<int>&)>& start);

// Starts a worker on each of `devices` with the same setup message (packed into WorkerStart.setup)
// and starting model (and momentum); the sizes of the splits they report.
struct ReplicaSizes {
  int64_t train = 0;
  int64_t test = 0;
};
Result<ReplicaSizes> startReplicas(RunContext& ctx, const std::vector<int>& devices,
                                   const google::protobuf::Message& setup,
                                   const wire::ModelStateBlob& initial_state,
                                   const wire::ModelStateBlob& momentum,
                                   std::chrono::milliseconds timeout);

// Waits until each of `devices` has sent a message `accept` takes (a Ready of the new ring or
// graph); fails as the wait does (kUnavailable: a device was lost meanwhile).
Status awaitEach(RunContext& ctx, const std::vector<int>& devices,
                 const std::function<bool(const DeviceMessage&)>& accept,
                 std::chrono::milliseconds timeout, const std::string& what);

// A round's totals as its devices report them (StepDone, GossipDone: compute_s, samples,
// loss_sum, correct): each device's step, and the round's loss and accuracy over every sample.
class RoundTotals {
 public:
  template <typename Done>
  void add(int device, const Done& done) {
    add(device, done.compute_s(), done.samples(), done.loss_sum(), done.correct());
  }
  void add(int device, double compute_s, int64_t samples, double loss_sum, int64_t correct);
  // The round so far, its devices in order.
  StepResult result() const;

 private:
  StepResult result_;
  double loss_sum_ = 0;
  int64_t correct_ = 0;
};

// Runs `attempt` (an evaluation, a gathering of the model), first calling `reform_if_lost`
// (which re-forms the layout when a device was lost), again while a device is lost meanwhile
// (kUnavailable), up to `attempts` times; then fails saying that `what` was interrupted.
template <typename T>
Result<T> retryWhileLost(int attempts, const std::string& what,
                         const std::function<Status()>& reform_if_lost,
                         const std::function<Result<T>()>& attempt) {
  for (int i = 0; i < attempts; ++i) {
    if (auto st = reform_if_lost(); !st) return st;
    auto r = attempt();
    if (r || r.status().code() != StatusCode::kUnavailable) return r;
  }
  return unavailable(what + " interrupted by lost devices " + std::to_string(attempts) + " times");
}

// The `recovered` event of a re-formed layout: "<what> over dev0, dev2 (<why>; 1 lost) in 0.12
// s", since `start`.
void recoveredEvent(RunContext& ctx, const std::string& what, const std::vector<int>& survivors,
                    size_t lost, const std::string& why,
                    std::chrono::steady_clock::time_point start);

}  // namespace edgerig
