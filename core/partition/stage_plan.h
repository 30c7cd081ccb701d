// Pipeline plans: where a chain of L layers is cut into K contiguous stages, one per device,
// made evenly by layer count or by profiled cost, or balanced to device speed and link
// bandwidth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/layer_info.h"
#include "device_bridge/status.h"

namespace edgerig {

struct StagePlan {
  // K+1 entries, 0 = b0 < b1 < ... < bK = L; stage s holds layers [b_s, b_{s+1}).
  std::vector<int> boundaries;

  int numStages() const { return boundaries.empty() ? 0 : static_cast<int>(boundaries.size()) - 1; }
  int numLayers() const { return boundaries.empty() ? 0 : boundaries.back(); }
  int first(int s) const { return boundaries.at(static_cast<size_t>(s)); }
  int last(int s) const { return boundaries.at(static_cast<size_t>(s) + 1); }
  std::vector<int> cuts() const;  // b1..b_{K-1}
  // "conv1–pool1 | conv2–fc2" (layer indices when `layers` does not match the plan).
  std::string describe(const std::vector<LayerInfo>& layers) const;
  bool operator==(const StagePlan&) const = default;

  // Validates: cuts strictly increasing inside (0, num_layers); the error names the bad cut.
  static Result<StagePlan> fromCuts(int num_layers, const std::vector<int>& cuts);
};

// By layer count, extra layers to the first stages. Needs 1 <= num_stages <= num_layers.
Result<StagePlan> evenPlan(int num_layers, int num_stages);

struct PlanInputs {
  std::vector<double> layer_time_s;           // reference fwd+bwd time per layer per mini-batch
  std::vector<int64_t> activation_bytes;      // per mini-batch, output of each layer
  std::vector<double> capacity;               // per device, c_s = T_ref / T_s (1 = reference speed)
  std::vector<double> bandwidth_bytes_per_s;  // K-1 links s -> s+1; <= 0 means unlimited
                                              // (empty: all unlimited)
};

// The dynamic program of /work/shared/ALGORITHMS.md (ftpipehd step 2):
// dp[j][s] = min_{i<j} max(dp[i][s-1], 2·act_bytes[i]/bw(s-1→s), T_ref(i+1..j)/c_s)
// It minimises the slowest of all stage computations and link transfers, each taken as its
// own pipeline step. K = capacity.size() stages, each with at least one layer.
Result<StagePlan> balancedPlan(const PlanInputs& in);

// gpipe's even plan by profiled cost: the contiguous split of the layers' reference times over
// num_stages devices counted equal whose most expensive stage is cheapest (balancedPlan with
// every capacity 1 and no link terms). Device speed plays no part: that is ftpipehd's plan.
Result<StagePlan> evenCostPlan(const std::vector<double>& layer_time_s, int num_stages);

// Compute time of stage s on its device plus the time of its inbound link (activations
// forward and gradients back).
double stageTime(const PlanInputs& in, const StagePlan& p, int s);
double bottleneckTime(const PlanInputs& in, const StagePlan& p);  // max over stages

}  // namespace edgerig
