// The runs of a comparison before they run: experiment files, named variants and sweeps expanded
// into a grid, each run an experiment text with its settings applied through applyOverride (the
// --set machinery, so any field of any algorithm can vary), its name, and one seed for all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/experiment/experiment.h"
#include "device_bridge/status.h"

namespace edgerig {

// --variant NAME:PATH=VALUE,PATH=VALUE ("NAME:" alone is the experiment as it is).
struct CompareVariant {
  std::string name;
  std::vector<std::string> assignments;  // "path=value"
};
Result<CompareVariant> parseVariant(std::string_view spec);

// --sweep PATH=V1,V2,...
struct CompareSweep {
  std::string path;
  std::vector<std::string> values;
};
Result<CompareSweep> parseSweep(std::string_view spec);

struct CompareExperiment {
  std::string label;  // the file's stem, or "quickstart"
  std::string json;
};

struct CompareSpec {
  std::vector<CompareExperiment> experiments;  // at least one
  std::vector<CompareVariant> variants;
  std::vector<CompareSweep> sweeps;
  std::vector<std::string> overrides;  // --set: every run, before its own settings
  ExperimentNames names;  // what the experiments are read against (the caller's registry)
};

struct PlannedRun {
  std::string name;                      // unique; also its run folder's name
  std::string json;                      // the experiment text to run
  std::vector<std::string> assignments;  // what makes this run: its variant's and sweeps' settings
};

// The grid of every axis, the first outermost: the experiments (when more than one), the variants
// (when any), then each sweep. With no axis, the one experiment. Every run takes the first
// experiment's seed unless its own settings change it. Errors name the run and the setting.
Result<std::vector<PlannedRun>> planComparison(const CompareSpec& spec);

// Splits at commas outside brackets, braces and quotes: "a=[1,2],b=3" -> "a=[1,2]", "b=3".
std::vector<std::string> splitTopLevel(std::string_view text);

// A label as a folder name: letters, digits and ._=+- kept, anything else becomes '_'.
std::string runFolderName(std::string_view label);

}  // namespace edgerig
