// The capacity- and bandwidth-aware partition (ftpipehd step 2), the cost model behind it, and
// gpipe's even plan by profiled cost (the same program over equal devices).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/partition/stage_plan.h"

namespace edgerig {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Seconds to move the activations of layer `layer` (0-based) forward and their gradients back
// over link `link` (from stage link to link + 1).
double linkTime(const PlanInputs& in, int layer, int link) {
  if (link < 0 || static_cast<size_t>(link) >= in.bandwidth_bytes_per_s.size()) return 0.0;
  const double bw = in.bandwidth_bytes_per_s[static_cast<size_t>(link)];
  if (bw <= 0 || layer < 0 || static_cast<size_t>(layer) >= in.activation_bytes.size()) {
    return 0.0;
  }
  return 2.0 * static_cast<double>(in.activation_bytes[static_cast<size_t>(layer)]) / bw;
}

Status checkInputs(const PlanInputs& in) {
  const size_t layers = in.layer_time_s.size(), stages = in.capacity.size();
  if (layers == 0)
    return invalidArgument("plan inputs have no layer times: profile the model first");
  if (in.activation_bytes.size() != layers) {
    return invalidArgument("plan inputs have " + std::to_string(in.activation_bytes.size()) +
                           " activation sizes for " + std::to_string(layers) +
                           " layers: give one per layer");
  }
  if (stages == 0 || stages > layers) {
    return invalidArgument("cannot balance " + std::to_string(layers) + " layers over " +
                           std::to_string(stages) +
                           " devices: every device needs at least one layer");
  }
  if (!in.bandwidth_bytes_per_s.empty() && in.bandwidth_bytes_per_s.size() != stages - 1) {
    return invalidArgument("plan inputs have " + std::to_string(in.bandwidth_bytes_per_s.size()) +
                           " link bandwidths for " + std::to_string(stages) +
                           " devices: give one per link (devices - 1), or none");
  }
  for (size_t s = 0; s < stages; ++s) {
    if (!(in.capacity[s] > 0) || !std::isfinite(in.capacity[s])) {
      return invalidArgument("capacity of device " + std::to_string(s) + " is " +
                             std::to_string(in.capacity[s]) + ": it must be positive and finite");
    }
  }
  for (size_t i = 0; i < layers; ++i) {
    if (!(in.layer_time_s[i] >= 0) || !std::isfinite(in.layer_time_s[i])) {
      return invalidArgument("time of layer " + std::to_string(i) + " is " +
                             std::to_string(in.layer_time_s[i]) + ": it must be >= 0 and finite");
    }
  }
  return Status::ok();
}

}  // namespace

Result<StagePlan> balancedPlan(const PlanInputs& in) {
  if (Status st = checkInputs(in); !st) return st;
  const int L = static_cast<int>(in.layer_time_s.size());
  const int K = static_cast<int>(in.capacity.size());
  std::vector<double> prefix(static_cast<size_t>(L) + 1, 0.0);
  for (int i = 0; i < L; ++i) prefix[i + 1] = prefix[i] + in.layer_time_s[static_cast<size_t>(i)];

  // dp[s][j]: best bottleneck with the first j layers on stages 1..s; from[s][j]: the i it used.
  std::vector<std::vector<double>> dp(K + 1, std::vector<double>(L + 1, kInf));
  std::vector<std::vector<int>> from(K + 1, std::vector<int>(L + 1, -1));
  dp[0][0] = 0.0;
  for (int s = 1; s <= K; ++s) {
    const double c = in.capacity[static_cast<size_t>(s) - 1];
    // Stage s needs one layer and leaves one for each later stage.
    for (int j = s; j <= L - (K - s); ++j) {
      for (int i = s - 1; i < j; ++i) {
        if (dp[s - 1][i] == kInf) continue;
        const double link = s > 1 ? linkTime(in, i - 1, s - 2) : 0.0;
        const double cost = std::max({dp[s - 1][i], link, (prefix[j] - prefix[i]) / c});
        if (cost < dp[s][j]) {
          dp[s][j] = cost;
          from[s][j] = i;
        }
      }
    }
  }
  StagePlan plan;
  plan.boundaries.assign(static_cast<size_t>(K) + 1, 0);
  int j = L;
  for (int s = K; s >= 1; --s) {
    plan.boundaries[static_cast<size_t>(s)] = j;
    j = from[s][j];
  }
  return plan;
}

Result<StagePlan> evenCostPlan(const std::vector<double>& layer_time_s, int num_stages) {
  if (num_stages < 1) {
    return invalidArgument("cannot split layers over " + std::to_string(num_stages) +
                           " stages: a plan needs at least one");
  }
  PlanInputs in;
  in.layer_time_s = layer_time_s;
  in.activation_bytes.assign(layer_time_s.size(), 0);
  in.capacity.assign(static_cast<size_t>(num_stages), 1.0);
  return balancedPlan(in);
}

double stageTime(const PlanInputs& in, const StagePlan& p, int s) {
  double compute = 0.0;
  for (int i = p.first(s); i < p.last(s); ++i) {
    if (static_cast<size_t>(i) < in.layer_time_s.size())
      compute += in.layer_time_s[static_cast<size_t>(i)];
  }
  const double c =
      static_cast<size_t>(s) < in.capacity.size() ? in.capacity[static_cast<size_t>(s)] : 1.0;
  return compute / c + (s > 0 ? linkTime(in, p.first(s) - 1, s - 1) : 0.0);
}

double bottleneckTime(const PlanInputs& in, const StagePlan& p) {
  double worst = 0.0;
  for (int s = 0; s < p.numStages(); ++s) worst = std::max(worst, stageTime(in, p, s));
  return worst;
}

}  // namespace edgerig
