#include "core/partition/stage_plan.h"

namespace edgerig {

std::vector<int> StagePlan::cuts() const {
  if (boundaries.size() < 2) return {};
  return {boundaries.begin() + 1, boundaries.end() - 1};
}

std::string StagePlan::describe(const std::vector<LayerInfo>& layers) const {
  const bool named = static_cast<int>(layers.size()) == numLayers();
  auto label = [&](int i) {
    return named ? layers[static_cast<size_t>(i)].name : std::to_string(i);
  };
  std::string text;
  for (int s = 0; s < numStages(); ++s) {
    if (s > 0) text += " | ";
    text += label(first(s));
    if (last(s) - first(s) > 1) text += "–" + label(last(s) - 1);
  }
  return text;
}

Result<StagePlan> StagePlan::fromCuts(int num_layers, const std::vector<int>& cuts) {
  if (num_layers < 1) {
    return invalidArgument("cannot plan a model of " + std::to_string(num_layers) +
                           " layers: it needs at least one");
  }
  StagePlan plan;
  plan.boundaries.push_back(0);
  for (size_t k = 0; k < cuts.size(); ++k) {
    const int cut = cuts[k];
    if (cut <= 0 || cut >= num_layers) {
      return invalidArgument("cut #" + std::to_string(k) + " at layer " + std::to_string(cut) +
                             " is outside the model: cuts must lie in 1.." +
                             std::to_string(num_layers - 1));
    }
    if (cut <= plan.boundaries.back()) {
      return invalidArgument("cut #" + std::to_string(k) + " at layer " + std::to_string(cut) +
                             " does not come after the previous cut at " +
                             std::to_string(plan.boundaries.back()) +
                             ": cuts must be strictly increasing");
    }
    plan.boundaries.push_back(cut);
  }
  plan.boundaries.push_back(num_layers);
  return plan;
}

Result<StagePlan> evenPlan(int num_layers, int num_stages) {
  if (num_layers < 1 || num_stages < 1 || num_stages > num_layers) {
    return invalidArgument("cannot split " + std::to_string(num_layers) + " layers into " +
                           std::to_string(num_stages) +
                           " stages: every stage needs at least one layer");
  }
  StagePlan plan;
  plan.boundaries.push_back(0);
  const int base = num_layers / num_stages, extra = num_layers % num_stages;
  for (int s = 0; s < num_stages; ++s) {
    plan.boundaries.push_back(plan.boundaries.back() + base + (s < extra ? 1 : 0));
  }
  return plan;
}

}  // namespace edgerig
