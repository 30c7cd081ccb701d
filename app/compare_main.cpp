#include "compare_main.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "core/experiment/compare_plan.h"
#include "core/experiment/experiment.h"
#include "core/runlog/comparison_curve.h"
#include "core/runlog/csv.h"
#include "core/runlog/numbers.h"
#include "core/runlog/run_comparison.h"
#include "quickstart_experiment.h"
#include "terminal_report.h"
#ifdef EDGERIG_WITH_UI
#include "ui/compare_render.h"
#include "ui/compare_xy.h"
#endif

namespace edgerig {
namespace {

namespace fs = std::filesystem;

int usage(const std::string& message) {
  std::cerr << "edgerig-run compare: " << message << "\n";
  return 2;
}

// Ctrl-C (or SIGTERM) stops the run in progress at its next iteration boundary and the runs not
// started yet are skipped. Signals are taken by a thread of their own (sigwait), as in a single
// run.
class StopOnSignal {
 public:
  StopOnSignal() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    thread_ = std::thread([this] {
      int sig = 0;
      sigwait(&signals_, &sig);
      if (done_.load()) return;
      std::lock_guard lock(mu_);
      interrupted_ = true;
      if (current_) current_->requestStop();
    });
  }
  ~StopOnSignal() {
    done_.store(true);
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }
  // The controller Ctrl-C stops now; false if Ctrl-C came already (do not start it).
  bool begin(Controller* c) {
    std::lock_guard lock(mu_);
    current_ = c;
    return !interrupted_;
  }
  void end() {
    std::lock_guard lock(mu_);
    current_ = nullptr;
  }
  bool interrupted() {
    std::lock_guard lock(mu_);
    return interrupted_;
  }

 private:
  sigset_t signals_;
  std::thread thread_;
  std::mutex mu_;
  Controller* current_ = nullptr;
  bool interrupted_ = false;
  std::atomic<bool> done_{false};
};

Result<std::string> readText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return notFound("cannot read experiment file '" + path + "'");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The comparison folder: the one given (new or empty), or runs/<timestamp>-<name>.
Result<std::string> comparisonDir(const std::string& out, const std::string& runs_root,
                                  const std::string& name) {
  if (out.empty()) return makeRunDir(runs_root, name);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) {
    return invalidArgument("--out " + out + " is not empty: give a new folder, or remove it");
  }
  fs::create_directories(out, ec);
  if (ec) return unavailable("cannot create " + out + ": " + ec.message());
  return out;
}

}  // namespace

CompareCommand::CompareCommand(CLI::App& app) {
  sub_ = app.add_subcommand(
      "compare",
      "run variants of an experiment one after another on the same seed (or compare runs that "
      "exist) and write a comparison folder: the runs, summary.csv, compare.png and compare.pdf");
  sub_->add_option("experiments", experiments_,
                   "experiment JSON files (default: the embedded quickstart); several files are "
                   "compared with each other");
  // One value per occurrence, every occurrence kept: `--set a=1 file.json` leaves the file alone.
  auto repeated = [](CLI::Option* o) { o->allow_extra_args(false)->take_all(); };
  repeated(sub_->add_option(
      "--variant", variants_,
      "a run: NAME:PATH=VALUE[,PATH=VALUE...] applied to the experiment (NAME: alone is the "
      "experiment as it is); repeat for each"));
  repeated(sub_->add_option("--sweep", sweeps_,
                            "PATH=V1,V2,...: one run per value; two sweeps make a grid"));
  repeated(sub_->add_option("--set", overrides_, "PATH=VALUE applied to every run"));
  sub_->add_option(
          "--target", target_,
          "test accuracy to time (default: 98 % of the best final accuracy among the runs)")
      ->check(CLI::Range(0.0, 1.0));
  sub_->add_option("--out", out_,
                   "comparison folder to write (new or empty; default: "
                   "RUNS/<timestamp>-compare-<name>)");
  sub_->add_option("--runs", runs_root_, "where the default comparison folder is created");
  sub_->add_option("--from", from_,
                   "compare run folders that exist instead of running anything (summary and "
                   "plots only); a comparison folder stands for the runs inside it")
      ->expected(1, CLI::detail::expected_max_vector_size);
  sub_->add_option("--xy", xy_,
                   "X,Y[,ALONG]: also draw one summary.csv column against another, a point per "
                   "run (xy.png, xy.pdf, curve.csv); either may be A/B, a ratio of two columns "
                   "(e.g. bytes_sent_replica/iterations,time_lost_s,refreshEvery); a line joins "
                   "the runs that differ only in ALONG (default: the last setting that differs)");
  sub_->add_flag("--quiet", quiet_, "no progress, only the comparison");
  sub_->add_flag("--dry-run", dry_run_,
                 "check every run's experiment and list the runs, then stop (nothing is run or "
                 "written)");
}

int CompareCommand::fromExisting() {
  if (!xy_.empty()) {
    if (auto spec = parseCurveSpec(xy_); !spec) return usage(spec.status().message());
  }
  if (!experiments_.empty() || !variants_.empty() || !sweeps_.empty() || !overrides_.empty()) {
    return usage(
        "--from compares runs that exist: it takes no experiment, --variant, --sweep or "
        "--set");
  }
  // A comparison folder stands for its runs: --from runs/seeds/x --target 0.7 re-times them.
  auto dirs = expandRunFolders(from_);
  if (!dirs) return usage(dirs.status().message());
  auto out = comparisonDir(out_, runs_root_, "compare");
  if (!out) return usage(out.status().message());
  return writeComparison(*dirs, *out);
}

int CompareCommand::run() {
  if (!from_.empty()) return fromExisting();
  if (!xy_.empty()) {
    if (auto spec = parseCurveSpec(xy_); !spec) return usage(spec.status().message());
  }
  CompareSpec spec;
  for (const auto& path : experiments_) {
    auto text = readText(path);
    if (!text) return usage(text.status().message());
    spec.experiments.push_back({fs::path(path).stem().string(), *text});
  }
  if (spec.experiments.empty()) spec.experiments.push_back({"quickstart", kQuickstartExperiment});
  for (const auto& v : variants_) {
    auto parsed = parseVariant(v);
    if (!parsed) return usage(parsed.status().message());
    spec.variants.push_back(*parsed);
  }
  for (const auto& s : sweeps_) {
    auto parsed = parseSweep(s);
    if (!parsed) return usage(parsed.status().message());
    spec.sweeps.push_back(*parsed);
  }
  spec.overrides = overrides_;
  spec.names = knownNames();
  auto planned = planComparison(spec);
  if (!planned) return usage(planned.status().message());
  // Every run is checked before the first starts: a typo in the last variant costs nothing.
  std::vector<ExperimentConfig> configs;
  const auto names = knownNames();
  for (const auto& r : *planned) {
    auto config = parseExperiment(r.json, "run " + r.name, names);
    if (!config) return usage(config.status().message());
    configs.push_back(*config);
  }
  // One seed for all unless a setting changes it (a sweep of seeds, say).
  std::string seed = "seed " + std::to_string(configs.front().seed);
  for (const auto& c : configs) {
    if (c.seed != configs.front().seed) seed = "seeds as the runs set them";
  }
  auto listRuns = [&](const std::string& where) {
    std::printf("edgerig-run compare: %zu run%s one after another, %s, %s\n", planned->size(),
                planned->size() == 1 ? "" : "s", seed.c_str(), where.c_str());
    for (size_t i = 0; i < planned->size(); ++i) {
      std::string settings;
      for (const auto& a : (*planned)[i].assignments) {
        settings += (settings.empty() ? "" : ", ") + a;
      }
      std::printf("  %zu. %-20s %s\n", i + 1, (*planned)[i].name.c_str(),
                  settings.empty() ? "(as the experiment is)" : settings.c_str());
    }
    std::fflush(stdout);
  };
  if (dry_run_) {
    listRuns("(dry run: every experiment checked, nothing run)");
    return 0;
  }
  auto out = comparisonDir(out_, runs_root_, "compare-" + spec.experiments.front().label);
  if (!out) return usage(out.status().message());
  listRuns("in " + *out);

  signal(SIGPIPE, SIG_IGN);
  StopOnSignal stop;
  std::vector<std::string> dirs;
  std::vector<std::string> skipped;
  int failed = 0;
  for (size_t i = 0; i < planned->size(); ++i) {
    const PlannedRun& r = (*planned)[i];
    if (stop.interrupted()) {
      skipped.push_back(r.name);
      continue;
    }
    std::printf("\n== run %zu/%zu: %s ==\n", i + 1, planned->size(), r.name.c_str());
    std::fflush(stdout);
    TerminalReport report(quiet_);
    RunObserver observer;
    observer.on_progress = [&](const RunProgress& p) { report.onProgress(p); };
    observer.on_event = [&](const RunEvent& e) { report.onEvent(e); };
    ControllerOptions options;
    options.run_dir = (fs::path(*out) / r.name).string();
    Controller controller(configs[i], options, observer);
    if (!stop.begin(&controller)) {
      stop.end();
      skipped.push_back(r.name);
      continue;
    }
    const RunSummary summary = controller.run();
    stop.end();
    report.finish();
    if (!summary.run_dir.empty()) dirs.push_back(summary.run_dir);
    if (summary.ok) {
      char averaged[48] = "";
      if (summary.averaged_model_accuracy >= 0) {
        std::snprintf(averaged, sizeof averaged, " (averaged model %.2f %%)",
                      100 * summary.averaged_model_accuracy);
      }
      std::printf("%s: finished, test accuracy %.2f %%%s, %.1f samples/s, %.1f s\n", r.name.c_str(),
                  100 * summary.test_accuracy, averaged, summary.samples_per_s, summary.elapsed_s);
    } else if (summary.stopped) {
      std::printf("%s: stopped on request after %lld iterations\n", r.name.c_str(),
                  static_cast<long long>(summary.iterations));
    } else {
      ++failed;
      std::printf("%s: FAILED: %s\n", r.name.c_str(), summary.error.c_str());
    }
    std::fflush(stdout);
  }
  if (!skipped.empty()) {
    std::string list;
    for (const auto& s : skipped) list += (list.empty() ? "" : ", ") + s;
    std::printf("\nstopped on request: not run: %s\n", list.c_str());
  }
  if (dirs.empty()) {
    std::cerr << "edgerig-run compare: no run was made, so there is nothing to compare\n";
    return stop.interrupted() ? 130 : 1;
  }
  const int written = writeComparison(dirs, *out);
  if (written != 0) return written;
  if (stop.interrupted()) return 130;
  return failed > 0 ? 1 : 0;
}

int CompareCommand::writeComparison(const std::vector<std::string>& dirs, const std::string& out) {
  std::optional<double> target;
  if (sub_->count("--target") > 0) target = target_;
  auto comparison = compareRunDirs(dirs, target);
  if (!comparison) {
    std::cerr << "edgerig-run compare: " << comparison.status().message() << "\n";
    return 1;
  }
  const std::string summary = (fs::path(out) / kSummaryFile).string();
  if (auto st = writeSummaryCsv(*comparison, summary); !st) {
    std::cerr << "edgerig-run compare: " << st.message() << "\n";
    return 1;
  }
  std::cout << "\n== comparison of " << dirs.size() << " runs ==\n" << summaryTable(*comparison);
  std::cout << "\nsummary:        " << summary << "\n";
#ifdef EDGERIG_WITH_UI
  std::string title = fs::path(out).filename().string() + ": ";
  for (size_t i = 0; i < comparison->rows.size(); ++i) {
    title += (i ? " vs " : "") + comparison->rows[i].run;
  }
  const std::string png = (fs::path(out) / "compare.png").string();
  const std::string pdf = (fs::path(out) / "compare.pdf").string();
  if (auto st = ui::renderComparison(dirs, title, png, pdf); !st) {
    std::cerr << "edgerig-run compare: plots: " << st.message() << "\n";
    return 1;
  }
  std::cout << "plots:          " << png << ", " << pdf << "\n";
#endif
  if (!xy_.empty()) {
    if (const int st = writeCurve(*comparison, out); st != 0) return st;
  }
#ifndef EDGERIG_WITH_UI
  std::cout << "plots:          none (built without the GUI library, EDGERIG_BUILD_UI=OFF)\n";
#endif
  std::cout << "comparison:     " << out << "\n";
  return 0;
}

int CompareCommand::writeCurve(const Comparison& comparison, const std::string& out) {
  const auto spec = parseCurveSpec(xy_);  // checked before anything ran
  auto curve = curveOf(comparison, *spec);
  if (!curve) {
    std::cerr << "edgerig-run compare: " << curve.status().message() << "\n";
    return 1;
  }
  const std::string csv = (fs::path(out) / "curve.csv").string();
  std::ofstream f(csv);
  f << csvRow({"run", "group", "label", curve->x_column, curve->y_column});
  std::cout << "\n== " << curve->y_column << " against " << curve->x_column << " ==\n";
  for (const auto& p : curve->points) {
    f << csvRow({p.run, p.group, p.label, formatValue(p.x), formatValue(p.y)});
    std::printf("  %-28s %-36s %14.6g %12.6g\n", p.group.c_str(), p.label.c_str(), p.x, p.y);
  }
  f.close();
  if (!f) {
    std::cerr << "edgerig-run compare: cannot write " << csv << "\n";
    return 1;
  }
  std::cout << "curve:          " << csv;
#ifdef EDGERIG_WITH_UI
  const std::string png = (fs::path(out) / "xy.png").string();
  const std::string pdf = (fs::path(out) / "xy.pdf").string();
  if (auto st = ui::renderCurve(*curve,
                                fs::path(out).filename().string() + ": " + curve->y_column +
                                    " against " + curve->x_column,
                                png, pdf);
      !st) {
    std::cerr << "\nedgerig-run compare: " << st.message() << "\n";
    return 1;
  }
  std::cout << ", " << png << ", " << pdf;
#endif
  std::cout << "\n";
  return 0;
}

}  // namespace edgerig
