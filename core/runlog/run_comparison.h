// Runs side by side, from their folders alone: one summary row per run (final and best test
// accuracy, wall time, time and iterations to a target accuracy, samples/s, bytes by kind, events
// by kind), written as summary.csv and shown as a terminal table with ratios to the first run. It
// reads only what every run folder holds, so it serves every algorithm, today's and later ones.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/runlog/run_reader.h"
#include "device_bridge/status.h"

namespace edgerig {

inline constexpr const char* kSummaryFile = "summary.csv";
// Without --target, the target is this fraction of the best final test accuracy among the runs.
inline constexpr double kDefaultTargetFraction = 0.98;

// One evaluation of a run: the run metric test_accuracy.
struct AccuracyPoint {
  double time_s = 0;
  int64_t iteration = 0;
  double accuracy = 0;
  // Seconds of training before it: from training_started, without the evaluations up to and
  // including this one (each from the run's last train_loss row before it to its result). Empty
  // when the folder has no training_started event.
  std::optional<double> training_s;
};

struct ComparisonRow {
  std::string run;  // its name in the comparison: the run folder's name
  std::string run_dir;
  // finished, stopped (on request), failed; incomplete when the folder has no end event (the
  // run crashed, or is still going).
  std::string status;
  std::string config_json;
  // The experiment fields whose values differ among the compared runs, as dotted paths of
  // config.json ("algorithm.plan") with their values here; filled by compareRuns.
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<AccuracyPoint> test_accuracy;
  std::optional<double> final_test_accuracy, best_test_accuracy;
  // A decentralized run's last evaluation of its devices' averaged model (the run metric
  // averaged_model_accuracy; final_test_accuracy is the devices' own models). None for others.
  std::optional<double> averaged_model_accuracy;
  double wall_time_s = 0;  // the run's last row: seconds since it started, set-up included
  // The first evaluation at or above the comparison's target; filled by compareRuns.
  std::optional<double> time_to_target_s;
  // The same evaluation's training_s: the time to the target without set-up and evaluations.
  std::optional<double> training_to_target_s;
  std::optional<int64_t> iterations_to_target;
  int64_t iterations = 0;
  // Whole-run average: the last samples_per_s_average (samples over training time). Folders
  // written before that metric existed recorded the average as samples_per_s; their last one.
  std::optional<double> samples_per_s;
  // After a change mid-run (a slowdown, a re-plan): the median of the current rate (the
  // run-level samples_per_s, over ~2 s of training) in the rows of the second half of its
  // iterations (iteration > the last one's half).
  std::optional<double> samples_per_s_second_half;
  double bytes_total = 0;                       // sum over devices of their last bytes_sent
  std::map<std::string, double> bytes_by_kind;  // the same, per bytes_sent_<kind> metric
  // faults: fault_applied events, except the device profiles applied at start-up (emulated
  // hardware, not faults); replans: plan_changed after the first plan; recoveries: events whose
  // kind contains "recover" but recovery_phase (a part of one); lost_devices: device_lost.
  int faults = 0, replans = 0, recoveries = 0, lost_devices = 0;
  std::map<std::string, int> events_by_kind;
  // Training time: from training_started to the last iteration's run-level train_loss row (the
  // set-up and the final evaluation excluded); none without both.
  std::optional<double> training_s;
  // The sum of the recovered events' iterations_retrained: mini-batches run again after a
  // recovery, in place of later ones (the run's iteration count stays the experiment's).
  int64_t iterations_retrained = 0;
  // What a fault cost this run in time, against its fault-free twin in the comparison (every
  // setting the same but the faults', and no fault applied there): training_s minus the twin's,
  // plus the retrained iterations at the twin's pace (the work redone, which the run did instead
  // of later iterations). None without a fault applied here or without such a twin; filled by
  // compareRuns.
  std::optional<double> time_lost_s;
};

struct Comparison {
  std::optional<double> target_accuracy;  // none when no run was evaluated
  bool target_given = false;              // else kDefaultTargetFraction of the best final
  std::vector<ComparisonRow> rows;
};

// One run's row from its folder's contents. Settings and time to target need every run: they
// are filled by compareRuns.
ComparisonRow summarizeRun(const std::string& name, const std::string& dir, const RunData& run);

// The rows side by side, the first being the baseline: the settings that differ among them, the
// target (given, or kDefaultTargetFraction of the best final accuracy, rounded to 4 decimals) and
// each run's time and iterations to it, and each faulted run's time lost against its twin.
Comparison compareRuns(std::vector<ComparisonRow> rows, std::optional<double> target);

// Each folder's name, made unique with -2, -3, ... ("runs/a/run", "runs/b/run" -> run, run-2).
std::vector<std::string> uniqueRunNames(const std::vector<std::string>& dirs);

// What a user names as runs, as run folders: a run folder (it has metrics.csv) is itself; a
// comparison folder (what edgerig-run compare writes) is the run folders inside it, in its
// summary.csv's order, then any other run folder inside by name. Errors name the path.
Result<std::vector<std::string>> expandRunFolders(const std::vector<std::string>& paths);

// Reads every folder (errors name the folder) and compares them in the order given.
Result<Comparison> compareRunDirs(const std::vector<std::string>& dirs,
                                  std::optional<double> target);

// summary.csv: the header, then one row per run, as text cells (the GUI's table shows the same
// cells). Columns: run, status, the settings, final_test_accuracy, best_test_accuracy,
// averaged_model_accuracy, wall_time_s, target_accuracy, time_to_target_s, training_to_target_s,
// iterations_to_target, iterations, samples_per_s, samples_per_s_second_half, bytes_total,
// bytes_<kind>..., faults, replans, recoveries, lost_devices, training_s, iterations_retrained,
// time_lost_s, events_<kind>... . An empty cell is a value the run does not have (never
// evaluated, target not reached, no twin).
std::vector<std::string> summaryHeader(const Comparison& c);
std::vector<std::vector<std::string>> summaryCells(const Comparison& c);
std::string summaryCsv(const Comparison& c);
Status writeSummaryCsv(const Comparison& c, const std::string& path);

// The same for a terminal, one column per run and one line per figure, each number followed by
// its ratio to the first run's ("(0.18x)").
std::string summaryTable(const Comparison& c);

}  // namespace edgerig
