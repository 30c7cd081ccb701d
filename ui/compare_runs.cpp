#include "ui/compare_runs.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <algorithm>

#include "core/runlog/csv.h"
#include "core/runlog/run_reader.h"
#include "ui/palette.h"
#include "ui/run_export.h"

namespace edgerig::ui {
namespace {

bool isRunFolder(const QString& dir) { return checkRunFolder(dir).isOk(); }

// The "run" column of a comparison folder's summary.csv: the order its runs were made in.
std::vector<std::string> summaryOrder(const QDir& dir) {
  QFile f(dir.filePath(kSummaryFile));
  if (!f.open(QIODevice::ReadOnly)) return {};
  auto rows = parseCsv(f.readAll().toStdString());
  std::vector<std::string> names;
  if (!rows || rows->empty() || rows->front().empty() || rows->front().front() != "run") {
    return names;
  }
  for (size_t r = 1; r < rows->size(); ++r) {
    if (!(*rows)[r].empty()) names.push_back((*rows)[r].front());
  }
  return names;
}

}  // namespace

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
      if (e.kind == "fault_applied" && e.detail.rfind("profile ", 0) == 0) continue;
      if (e.kind == "plan_changed" && !planned) {
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
  std::vector<std::string> dirs;
  for (const QString& path : paths) {
    const QString clean = QDir::cleanPath(path);
    if (isRunFolder(clean)) {
      dirs.push_back(clean.toStdString());
      continue;
    }
    const QFileInfo info(clean);
    if (!info.isDir()) return checkRunFolder(clean);  // names what is wrong with it
    const QDir dir(clean);
    QStringList runs;
    for (const QString& sub : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
      if (isRunFolder(dir.filePath(sub))) runs << sub;
    }
    if (runs.isEmpty()) {
      return invalidArgument(clean.toStdString() +
                             ": neither a run folder (no metrics.csv) nor a comparison folder "
                             "(no run folders inside)");
    }
    // The comparison's own order first (its baseline leads), then any other run folder.
    QStringList ordered;
    for (const auto& name : summaryOrder(dir)) {
      const QString n = QString::fromStdString(name);
      if (runs.contains(n) && !ordered.contains(n)) ordered << n;
    }
    for (const QString& n : runs) {
      if (!ordered.contains(n)) ordered << n;
    }
    for (const QString& n : ordered) dirs.push_back(dir.filePath(n).toStdString());
  }
  return dirs;
}

}  // namespace edgerig::ui
