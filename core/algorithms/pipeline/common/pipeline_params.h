// The parameters every synchronous pipeline declares (micro-batches, the initial plan, explicit
// cuts) and the check that spans them, shared by the pipeline family's registry entries.
#pragma once

#include <string>
#include <vector>

#include "core/experiment/algorithm_params.h"
#include "core/experiment/experiment.h"
#include "device_bridge/status.h"

namespace edgerig {

// microBatches, plan (default `default_plan`: "even" or "balanced"), cuts.
std::vector<ParamSpec> pipelineParams(const std::string& default_plan);

// Micro-batches against the batch, cuts against the devices and the model.
Status checkPipelineParams(const ExperimentConfig& c);

}  // namespace edgerig
