// The controller side of a training algorithm, found by name in the registry. The
// controller owns devices, faults, metrics and the run log; a coordinator owns the training
// protocol between iteration boundaries.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/algorithms/run_context.h"

namespace edgerig {

struct StepResult {
  double loss = 0;      // mean over the mini-batch
  double accuracy = 0;  // fraction correct on the mini-batch
  int64_t samples = 0;
  std::vector<double> stage_compute_s;  // per stage, including emulated slowdown
};

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t samples = 0;
};

class Coordinator {
 public:
  virtual ~Coordinator() = default;
  // Profiles, plans and configures the devices; after it, trainSize() is known.
  virtual Status setup() = 0;
  virtual int64_t trainSize() const = 0;
  virtual int64_t testSize() const = 0;
  virtual Result<StepResult> trainStep(int64_t iteration, const std::vector<int64_t>& indices) = 0;
  virtual Result<EvalResult> evaluate(int64_t samples) = 0;
  virtual std::string planDescription() const = 0;

  // The algorithm switch: the running algorithm hands over the whole model, and the next one
  // is given it before setup(), so it starts from those weights instead of the seed's.
  // Optimizer state (momentum) does not travel: the next algorithm starts its own.
  virtual Result<wire::ModelStateBlob> gatherState() = 0;
  virtual void startFrom(wire::ModelStateBlob state) = 0;
};

// Unknown name: an error listing the registered ones.
Result<std::unique_ptr<Coordinator>> makeCoordinator(const std::string& algorithm, RunContext& ctx);

}  // namespace edgerig
