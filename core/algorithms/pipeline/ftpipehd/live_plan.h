// ftpipehd's live re-planning, as plain functions: each stage's capacity from its measured
// compute time, the balanced plan for those capacities, whether moving to it is worth a
// migration, and which layers each stage must pull from whom when it does.
#pragma once

#include <string>
#include <vector>

#include "core/partition/stage_plan.h"
#include "device_bridge/status.h"

namespace edgerig {

// Compute seconds per stage, summed over the iterations since the last reset.
class StageTimeWindow {
 public:
  void reset(int stages);
  void add(const std::vector<double>& stage_compute_s);  // one iteration, one entry per stage
  int iterations() const { return iterations_; }
  std::vector<double> mean() const;

 private:
  std::vector<double> sum_;
  int iterations_ = 0;
};

// c_s = T_ref(layers of s) / t_s: the capacity for which the cost model (T_ref(i..j) / c_s)
// predicts exactly the time stage s took on its device. Not normalised, so the compute terms
// stay in seconds next to the link terms. A stage with no measured time gets capacity 1.
std::vector<double> capacitiesFromStageTimes(const std::vector<double>& reference_layer_time_s,
                                             const StagePlan& plan,
                                             const std::vector<double>& stage_time_s);

// The same, trusting only stages that hold at least `min_share` of an even stage's reference
// work (total / stages): a stage of a few cheap layers (a pool) is timed mostly in per-iteration
// overhead, which makes a slow device look fast and the plan hand it heavy layers back, then
// take them away again. Such a stage keeps `previous[s]`.
std::vector<double> trustedCapacities(const std::vector<double>& reference_layer_time_s,
                                      const StagePlan& plan,
                                      const std::vector<double>& stage_time_s,
                                      const std::vector<double>& previous, double min_share);

struct ReplanDecision {
  bool replan = false;
  StagePlan proposed;     // the balanced plan for the measured capacities
  double current_s = 0;   // predicted slowest step (seconds per mini-batch) of the current plan
  double proposed_s = 0;  // and of the proposed one
  double gain = 1;        // current_s / proposed_s
  std::string reason;     // why it re-plans, or why not
};

// The slowest pipeline step of plan p under the dynamic program's own objective: every stage's
// compute and every link's transfer is a step of its own (stageTime in core/partition adds a
// stage's inbound link to its compute instead; the gain must be judged by what the DP minimises).
double slowestStep(const PlanInputs& in, const StagePlan& p);

// Re-plan when the proposed plan differs and its predicted gain is at least `threshold`. A
// proposal to go back to `left` (the plan the last re-plan moved away from, over the same
// devices; null: none) needs threshold² (our design, docs/design.md ftpipehd 3): on a shared
// machine a stage's time depends on what the others compute beside it, so each of two plans
// can measure in favour of the other, and the plan flipped at every measurement.
Result<ReplanDecision> decideReplan(const PlanInputs& measured, const StagePlan& current,
                                    double threshold, const StagePlan* left = nullptr);

// Layers [first, last) that a stage gains in a migration and the stage that holds them now.
struct LayerFetch {
  int owner_stage = 0;
  int first = 0;
  int last = 0;
  bool operator==(const LayerFetch&) const = default;
};
// What stage `stage` pulls going from plan `from` to plan `to`, grouped by owner, in layer order.
std::vector<LayerFetch> layersGained(const StagePlan& from, const StagePlan& to, int stage);

}  // namespace edgerig
