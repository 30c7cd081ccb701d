#include "core/algorithms/pipeline/ftpipehd/live_plan.h"

#include <algorithm>
#include <cstdio>

namespace edgerig {

void StageTimeWindow::reset(int stages) {
  sum_.assign(static_cast<size_t>(stages), 0.0);
  iterations_ = 0;
}

void StageTimeWindow::add(const std::vector<double>& stage_compute_s) {
  if (stage_compute_s.size() != sum_.size()) reset(static_cast<int>(stage_compute_s.size()));
  for (size_t s = 0; s < sum_.size(); ++s) sum_[s] += stage_compute_s[s];
  ++iterations_;
}

std::vector<double> StageTimeWindow::mean() const {
  std::vector<double> out(sum_.size(), 0.0);
  if (iterations_ == 0) return out;
  for (size_t s = 0; s < sum_.size(); ++s) out[s] = sum_[s] / iterations_;
  return out;
}

std::vector<double> capacitiesFromStageTimes(const std::vector<double>& reference_layer_time_s,
                                             const StagePlan& plan,
                                             const std::vector<double>& stage_time_s) {
  std::vector<double> capacity;
  for (int s = 0; s < plan.numStages(); ++s) {
    double reference = 0;
    for (int l = plan.first(s); l < plan.last(s); ++l) {
      if (static_cast<size_t>(l) < reference_layer_time_s.size())
        reference += reference_layer_time_s[static_cast<size_t>(l)];
    }
    const double t = static_cast<size_t>(s) < stage_time_s.size() ? stage_time_s[s] : 0.0;
    capacity.push_back(t > 0 && reference > 0 ? reference / t : 1.0);
  }
  return capacity;
}

std::vector<double> trustedCapacities(const std::vector<double>& reference_layer_time_s,
                                      const StagePlan& plan,
                                      const std::vector<double>& stage_time_s,
                                      const std::vector<double>& previous, double min_share) {
  std::vector<double> capacity =
      capacitiesFromStageTimes(reference_layer_time_s, plan, stage_time_s);
  double total = 0;
  for (double t : reference_layer_time_s) total += t;
  const double even_share = plan.numStages() > 0 ? total / plan.numStages() : 0;
  for (int s = 0; s < plan.numStages(); ++s) {
    double reference = 0;
    for (int l = plan.first(s); l < plan.last(s); ++l) reference += reference_layer_time_s.at(l);
    if (reference < min_share * even_share && static_cast<size_t>(s) < previous.size()) {
      capacity[static_cast<size_t>(s)] = previous[static_cast<size_t>(s)];
    }
  }
  return capacity;
}

double slowestStep(const PlanInputs& in, const StagePlan& p) {
  double worst = 0;
  for (int s = 0; s < p.numStages(); ++s) {
    double reference = 0;
    for (int l = p.first(s); l < p.last(s); ++l) reference += in.layer_time_s.at(l);
    worst = std::max(worst, reference / in.capacity.at(s));
    if (s == 0 || in.bandwidth_bytes_per_s.empty()) continue;
    const double bw = in.bandwidth_bytes_per_s.at(s - 1);
    if (bw > 0) worst = std::max(worst, 2.0 * in.activation_bytes.at(p.first(s) - 1) / bw);
  }
  return worst;
}

Result<ReplanDecision> decideReplan(const PlanInputs& measured, const StagePlan& current,
                                    double threshold, const StagePlan* left) {
  auto proposed = balancedPlan(measured);
  if (!proposed) return proposed.status();
  ReplanDecision d;
  d.proposed = *proposed;
  d.current_s = slowestStep(measured, current);
  d.proposed_s = slowestStep(measured, d.proposed);
  d.gain = d.proposed_s > 0 ? d.current_s / d.proposed_s : 1.0;
  char gain[32];
  std::snprintf(gain, sizeof gain, "%.2fx", d.gain);
  if (d.proposed == current) {
    d.reason = "the current plan is already balanced for the measured capacities";
  } else if (d.gain < threshold) {
    d.reason = std::string("predicted gain ") + gain + " is below the threshold";
  } else if (left != nullptr && d.proposed == *left && d.gain < threshold * threshold) {
    std::snprintf(gain, sizeof gain, "%.2fx < %.2fx", d.gain, threshold * threshold);
    d.reason = std::string("predicted gain ") + gain +
               ", the threshold squared that a return to the plan the last re-plan left needs";
  } else {
    d.replan = true;
    d.reason = std::string("measured capacities changed: predicted gain ") + gain;
  }
  return d;
}

std::vector<LayerFetch> layersGained(const StagePlan& from, const StagePlan& to, int stage) {
  std::vector<LayerFetch> out;
  for (int l = to.first(stage); l < to.last(stage); ++l) {
    if (l >= from.first(stage) && l < from.last(stage)) continue;  // already held
    int owner = 0;
    while (owner + 1 < from.numStages() && l >= from.last(owner)) ++owner;
    if (!out.empty() && out.back().owner_stage == owner && out.back().last == l) {
      out.back().last = l + 1;
    } else {
      out.push_back(LayerFetch{owner, l, l + 1});
    }
  }
  return out;
}

}  // namespace edgerig
