// "Export CSV" of a run folder: the long format (metrics.csv as the run wrote it) or the wide one
// for spreadsheets, written to a temporary file and renamed so a failure leaves no half file.
#pragma once

#include <QString>

#include "device_bridge/status.h"

namespace edgerig::ui {

enum class CsvLayout {
  kLong,  // time_s,iteration,device,metric,value: one row per sample
  kWide,  // time_s,iteration,device,<one column per metric> (exportWide in core/runlog)
};

// Writes the run's metrics to `out_path` (replacing it). Errors name the run folder or the output
// path and what to do. A last row cut by a crash is left out of the long export too.
Status exportRunCsv(const QString& run_dir, const QString& out_path, CsvLayout layout);

// A file name (no folder) for the save dialog: "<run folder name>-long.csv" / "-wide.csv".
QString defaultExportName(const QString& run_dir, CsvLayout layout);

// Why `dir` cannot be read as a run folder ("<dir>: not a run folder: no metrics.csv"), or ok.
Status checkRunFolder(const QString& dir);

}  // namespace edgerig::ui
