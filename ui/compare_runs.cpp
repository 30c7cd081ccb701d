#include "ui/compare_runs.h"

#include "core/runlog/event_kinds.h"

#include <QDir>

#include "core/runlog/run_reader.h"
#include "ui/palette.h"
#include "ui/run_export.h"

namespace edgerig::ui {

Result<LoadedComparison> loadComparison(const std::vector<std::string>& run_dirs,
                                        std::optional<double> target) {
  if (run_dirs.empty()) return invalidArgument("no run folders to compare");
  const auto names = uniqueRunNames(run_dirs);
  LoadedComparison out;
  std::vector<ComparisonRow> rows;
  for (size_t i = 0; i < run_dirs.size(); ++i) {
    if (Status st = checkRunFolder(QString::fromStdString(run_dirs[i])); !st) return st;
    auto data = readRun(run_dirs[i]);
    if (!data) return Status(data.status().code(), run_dirs[i] + ": " + data.status().message());
    rows.push_back(summarizeRun(names[i], run_dirs[i], *data));
    PlotPanel::OverlayRun run;
    run.name = QString::fromStdString(names[i]);
    run.color = runColor(static_cast<int>(i));
    run.lines = compareLines(data->metrics);
    // Only the events that are markers, and as the summary counts them: not the device
    // profiles applied at start-up nor the first plan, which every run has (emulated hardware
    // and set-up, not what happened to it). The rest of the folder is let go here.
    bool planned = false;
    for (auto& e : data->events) {
      if (markerLabel(e).isEmpty()) continue;
      if (e.kind == events::kFaultApplied && e.detail.rfind("profile ", 0) == 0) continue;
      if ((e.kind == events::kPlanChanged || e.kind == events::kGraphChanged) && !planned) {
        planned = true;
        continue;
      }
      run.events.push_back(std::move(e));
    }
    out.runs.push_back(std::move(run));
  }
  out.comparison = compareRuns(std::move(rows), target);
  return out;
}

Result<std::vector<std::string>> expandRunFolders(const QStringList& paths) {
  std::vector<std::string> list;
  for (const QString& p : paths) list.push_back(QDir::cleanPath(p).toStdString());
  return edgerig::expandRunFolders(list);
}

}  // namespace edgerig::ui
