// The controller side of an algorithm, made by its registry entry's coordinator factory. The
// controller owns devices, faults, metrics and the run log; a coordinator owns the training
// protocol between iteration boundaries, and decides what a lost or returning device means for
// it (RunContext::takeLost, rejoinsInPlace).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/algorithms/run_context.h"

namespace edgerig {

// What one device did in an iteration. loss/accuracy are NaN where the device computes none
// (a pipeline stage before the last).
struct DeviceStep {
  int device = 0;
  double compute_s = 0;  // emulated slowdown included
  double loss = std::nan("");
  double accuracy = std::nan("");
  int64_t samples = 0;
};

struct StepResult {
  double loss = 0;      // mean over the iteration's samples
  double accuracy = 0;  // fraction correct
  int64_t samples = 0;
  std::vector<DeviceStep> devices;
};

struct DeviceEval {
  int device = 0;
  double loss = 0;
  double accuracy = 0;
  int64_t samples = 0;
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t samples = 0;
  std::vector<DeviceEval> devices;  // when each device's own model is evaluated
  // Where the devices' models differ (gossip, dssync): their averaged model's accuracy
  // (evaluateModelsAndTheirAverage), which the end-of-run summary gives beside their own.
  std::optional<double> averaged_model_accuracy;
};

class Coordinator {
 public:
  virtual ~Coordinator() = default;
  // Profiles, plans and starts the workers (RunContext::startWorkers).
  virtual Status setup() = 0;
  // Iterations that make one pass over the training set, and that set's size.
  virtual int64_t iterationsPerEpoch() const = 0;
  virtual int64_t trainSize() const = 0;
  virtual Result<StepResult> trainStep(int64_t iteration) = 0;
  // On the first `samples` test samples (0: all of them).
  virtual Result<EvalResult> evaluate(int64_t samples) = 0;
  // One line for the summary: "[conv1 conv2] [fc1 fc2]", "ring dev0 dev1 dev2".
  virtual std::string layoutDescription() const = 0;

  // The algorithm switch: the running algorithm hands over the whole model (a decentralized one:
  // the average of the devices' models), and the next is given it before setup(), so it starts
  // from those weights instead of the seed's.
  virtual Result<wire::ModelStateBlob> gatherState() = 0;
  virtual void startFrom(wire::ModelStateBlob state) = 0;
  // The same with the optimizer's state (momentum buffers, <layer>.<param>.momentum), which the
  // controller uses for a switch and a restart: an algorithm that can gather and load momentum
  // overrides both, so that training goes on exactly as it would have. The defaults carry the
  // weights alone, and the next algorithm starts with fresh momentum.
  struct Handover {
    wire::ModelStateBlob weights;
    wire::ModelStateBlob optimizer;  // empty: fresh momentum
  };
  virtual Result<Handover> gatherHandover() {
    auto weights = gatherState();
    if (!weights) return weights.status();
    return Handover{std::move(weights).value(), {}};
  }
  virtual void startFrom(Handover handover) { startFrom(std::move(handover.weights)); }

  // A local device restarted (a reboot, or a lost one started again). true: the coordinator
  // takes it back itself with deviceRejoined() once it is up; false: the controller gathers the
  // model first and restarts the whole algorithm from it.
  virtual bool rejoinsInPlace() const { return false; }
  virtual Status deviceRejoined(int device) { return Status::ok(); }
};

using CoordinatorFactory = std::function<std::unique_ptr<Coordinator>(RunContext& ctx)>;

}  // namespace edgerig
