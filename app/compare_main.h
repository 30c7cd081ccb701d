// edgerig-run compare: runs variants of an experiment one after another on the same seed (or reads
// runs that exist, --from) and writes a comparison folder: each run's folder, summary.csv, the
// table on the terminal, and compare.png / compare.pdf when the GUI library is built.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace edgerig {

struct Comparison;

class CompareCommand {
 public:
  // Adds the `compare` subcommand and its options to `app`.
  explicit CompareCommand(CLI::App& app);

  bool chosen() const { return sub_->parsed(); }
  // The exit status: 0 every run finished, 1 a run failed (the summary is written anyway), 2 bad
  // arguments or experiments (nothing ran), 130 stopped by Ctrl-C (finished runs are kept).
  int run();

 private:
  int fromExisting();
  // summary.csv, the table and the plots of the run folders in `dirs`.
  int writeComparison(const std::vector<std::string>& dirs, const std::string& out);
  // --xy: curve.csv, the points on the terminal, and xy.png / xy.pdf when the GUI is built.
  int writeCurve(const Comparison& comparison, const std::string& out);

  CLI::App* sub_ = nullptr;
  std::vector<std::string> experiments_, variants_, sweeps_, overrides_, from_;
  std::string out_, runs_root_ = "runs", xy_;
  double target_ = 0;
  bool quiet_ = false;
  bool dry_run_ = false;
};

}  // namespace edgerig
