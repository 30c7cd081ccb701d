// Run folders opened side by side: the comparison's summary rows (core/runlog/run_comparison, the
// same rows edgerig-run compare writes) and each run's lines and markers for the charts. Folders
// are read one at a time and only what is drawn is kept, so ten long runs fit in memory.
#pragma once

#include <QStringList>
#include <optional>
#include <string>
#include <vector>

#include "core/runlog/run_comparison.h"
#include "ui/plot_panel.h"

namespace edgerig::ui {

struct LoadedComparison {
  Comparison comparison;
  std::vector<PlotPanel::OverlayRun> runs;  // in the comparison's order, coloured by runColor
};

// Reads the run folders (errors name the folder) in the order given, the first the baseline.
Result<LoadedComparison> loadComparison(const std::vector<std::string>& run_dirs,
                                        std::optional<double> target = std::nullopt);

// What the user chose, as run folders (core's expandRunFolders: a comparison folder stands for
// the runs inside it, in its summary.csv's order).
Result<std::vector<std::string>> expandRunFolders(const QStringList& paths);

}  // namespace edgerig::ui
