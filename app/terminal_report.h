// How edgerig-run shows a run on a terminal: a progress bar on a TTY (plain periodic lines
// otherwise), notable events as they happen, and the summary table at the end.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "core/controller/run_types.h"

namespace edgerig {

class TerminalReport {
 public:
  explicit TerminalReport(bool quiet);
  void onProgress(const RunProgress& p);
  void onEvent(const RunEvent& e);
  void finish();
  static std::string summaryTable(const RunSummary& s);

 private:
  void clearBar();
  std::mutex mu_;
  bool tty_ = false;
  bool quiet_ = false;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point last_line_{};
  RunProgress last_{};
};

}  // namespace edgerig
