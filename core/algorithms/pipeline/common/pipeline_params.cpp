#include "core/algorithms/pipeline/common/pipeline_params.h"

#include <limits>

#include "core/model/layer_info.h"

namespace edgerig {

std::vector<ParamSpec> pipelineParams(const std::string& default_plan) {
  return {
      {"microBatches",
       "micro-batches",
       ParamSpec::Kind::kInt,
       "micro-batches per mini-batch (the batch size must be at least this)",
       int64_t{4},
       1,
       1024,
       {}},
      {"plan",
       "plan",
       ParamSpec::Kind::kChoice,
       "even: layers split by count; even-cost: by profiled cost, every device counted equal; "
       "balanced: by measured capacity (FTPipeHD's DP)",
       default_plan,
       0,
       0,
       {"even", "even-cost", "balanced"}},
      {"cuts",
       "cuts",
       ParamSpec::Kind::kIntList,
       "explicit cut points, one fewer than devices (empty: use the plan)",
       IntList{},
       1,
       std::numeric_limits<double>::infinity(),
       {}},
  };
}

Status checkPipelineParams(const ExperimentConfig& c) {
  const auto& p = c.algorithm.params;
  const int64_t micro = p.getInt("microBatches");
  if (micro > c.batch_size) {
    return invalidArgument("field algorithm.microBatches: must be at most training.batchSize (" +
                           std::to_string(c.batch_size) + "), got " + std::to_string(micro));
  }
  const IntList cuts = p.getIntList("cuts");
  for (size_t i = 1; i < cuts.size(); ++i) {
    if (cuts[i] <= cuts[i - 1]) {
      return invalidArgument("field algorithm.cuts." + std::to_string(i) +
                             ": cut points must be strictly increasing, got " +
                             std::to_string(cuts[i]) + " after " + std::to_string(cuts[i - 1]));
    }
  }
  if (!cuts.empty() && static_cast<int>(cuts.size()) + 1 != c.numDevices()) {
    return invalidArgument("field algorithm.cuts: " + std::to_string(cuts.size()) +
                           " cut points make " + std::to_string(cuts.size() + 1) +
                           " stages but the run has " + std::to_string(c.numDevices()) +
                           " devices; give one cut fewer than devices");
  }
  if (!cuts.empty()) {
    if (auto layers = describeModel(c.model);
        layers && cuts.back() >= static_cast<int64_t>(layers->size())) {
      return invalidArgument("field algorithm.cuts: cut " + std::to_string(cuts.back()) +
                             " is past the last layer of '" + c.model + "' (" +
                             std::to_string(layers->size()) + " layers: cuts go from 1 to " +
                             std::to_string(layers->size() - 1) + ")");
    }
  }
  return Status::ok();
}

}  // namespace edgerig
