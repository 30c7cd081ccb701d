// The learning-rate schedule (training.lrSchedule): every worker sets its optimizer's rate from
// the iteration of the step it is about to apply, so devices, replicas and replays agree.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "edgerig.pb.h"

namespace edgerig {

// run.learning_rate() times the factor of every schedule step at or before `iteration`.
double learningRateAt(const wire::RunSettings& run, int64_t iteration);

// Sets every parameter group's rate to learningRateAt(run, iteration).
void setLearningRate(torch::optim::SGD& optimizer, const wire::RunSettings& run, int64_t iteration);

}  // namespace edgerig
