// The chaos soak's verdicts on what a run left behind: the run folder's completeness, each
// scheduled fault injected and survived (from events.csv), and whether a process's resident
// memory stayed flat. Pure: it reads a RunData (core/runlog's reader) and numbers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench/chaos/chaos_plan.h"
#include "core/runlog/run_reader.h"

namespace edgerig::chaos {

// The run-level metrics the controller writes once per finished iteration.
inline const std::vector<std::string> kPerIterationMetrics{
    "train_loss", "train_accuracy", "epoch", "samples_per_s", "samples_per_s_average"};

struct Completeness {
  int64_t iterations = 0;           // the highest iteration with a train_loss row
  int64_t missing = 0;              // (iteration, metric) pairs of 1..iterations without a row
  int64_t duplicated = 0;           // ... with more than one
  int64_t events_out_of_order = 0;  // events.csv rows earlier than the row before
  std::string first_problem;        // "" when complete
  bool ok() const { return first_problem.empty(); }
};
Completeness checkCompleteness(const RunData& run);

// How the run ended: its last lifecycle event (run_finished, run_stopped, run_failed) and its
// detail; "none" when there is none (the controller died).
struct EndState {
  std::string kind = "none";
  std::string detail;
  bool finished() const { return kind == "run_finished"; }
};
EndState endState(const RunData& run);

struct FaultOutcome {
  FaultConfig planned;
  bool injected = false;
  double applied_s = -1;  // the event's time
  bool survived = false;
  std::string why;  // what is missing when not survived
};

struct FaultReport {
  std::vector<FaultOutcome> faults;
  // device_lost events that no crash explains (a freeze or a link fault must not lose a device).
  std::vector<std::string> unexpected_losses;
  struct Count {
    int planned = 0, injected = 0, survived = 0;
  };
  std::map<std::string, Count> byKind() const;
  bool ok() const;  // every fault injected and survived, no unexpected loss
};

// Matches each planned fault to its event (fault_applied with field fault = kind, fault_cleared
// for clear; device "dev<i>"), in order per device and kind, and judges it survived:
//  - every fault: the run did not fail, and iterations finished after it;
//  - crash: the device is lost after it, a.after_loss follows (when the algorithm promises one),
//    and its restart brings it back (device_restarted, then a.after_restart when promised);
//  - restart: device_restarted for the device after it;
//  - freeze: no device_lost for the device while it was frozen.
FaultReport judgeFaults(const std::vector<FaultConfig>& plan, const AlgorithmChaos& a,
                        const RunData& run);

// Resident memory of one process over time. The first kRssWarmupS seconds of its life (LibTorch
// and the data loading) are its warm-up: start and the thirds count from there. Flat: the median
// of the last third of the samples is at most the first third's plus max(margin_fraction × first
// third's, margin_mib).
struct RssVerdict {
  double start_mib = 0, peak_mib = 0, end_mib = 0;  // start: the first sample after warm-up
  double first_third_mib = 0, last_third_mib = 0;
  double slope_mib_per_min = 0;  // least squares over every sample
  bool judged = false;           // too few samples to judge: flat is not claimed
  bool flat = false;
};
inline constexpr double kRssMarginFraction = 0.10;
inline constexpr double kRssMarginMib = 16;
inline constexpr double kRssWarmupS = 30;
inline constexpr size_t kRssMinSamples = 60;  // judged after a minute past its warm-up
RssVerdict judgeRss(const std::vector<double>& times_s, const std::vector<double>& mib);

}  // namespace edgerig::chaos
