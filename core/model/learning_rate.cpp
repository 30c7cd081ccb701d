#include "core/model/learning_rate.h"

namespace edgerig {

double learningRateAt(const wire::RunSettings& run, int64_t iteration) {
  double lr = run.learning_rate();
  for (const auto& step : run.lr_schedule()) {
    if (step.at_iteration() <= iteration) lr *= step.factor();
  }
  return lr;
}

void setLearningRate(torch::optim::SGD& optimizer, const wire::RunSettings& run,
                     int64_t iteration) {
  const double lr = learningRateAt(run, iteration);
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  }
}

}  // namespace edgerig
