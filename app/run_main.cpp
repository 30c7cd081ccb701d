// edgerig-run: runs an experiment headless and leaves a run folder; `export` writes the wide
// CSV of a run folder for spreadsheets; `compare` runs variants side by side (compare_main.cpp).
#include <signal.h>

#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "compare_main.h"
#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "core/experiment/experiment.h"
#include "core/runlog/run_reader.h"
#include "quickstart_experiment.h"
#include "terminal_report.h"

namespace {

int exportCommand(const std::string& run_dir, const std::string& out) {
  if (auto st = edgerig::exportWide(run_dir, out); !st) {
    std::cerr << "edgerig-run export: " << st.message() << "\n";
    return 1;
  }
  std::cout << "wrote " << out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Tensors arrive in multi-MiB messages: keep freed memory in the heap instead of trimming
  // and re-faulting it on every message (measured in bench/bridge).
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  CLI::App app{"edgerig-run: trains a model across edge devices from an experiment file, headless"};
  app.require_subcommand(0, 1);
  std::string experiment_path;
  std::string out_dir;
  std::string runs_root = "runs";
  std::vector<std::string> overrides;
  bool quiet = false;
  bool save_model = false;
  app.add_option("experiment", experiment_path,
                 "experiment JSON (default: the embedded quickstart: 3 local agents, cnn, "
                 "Fashion-MNIST, gpipe, 1 epoch)");
  app.add_option("--out", out_dir, "run folder to write (default: RUNS/<timestamp>-<name>)");
  app.add_option("--runs", runs_root, "where run folders are created");
  app.add_option("--set", overrides, "override a field, e.g. --set training.epochs=0.2")
      ->take_all();
  app.add_flag("--quiet", quiet, "no progress, only the summary");
  app.add_flag("--save-model", save_model,
               "write the trained model to the run folder as model.bin (a serialized "
               "ModelStateBlob: the weights by name)");
  std::string export_run, export_out;
  auto* exp = app.add_subcommand("export", "write a run folder's metrics as one wide CSV");
  exp->add_option("run_dir", export_run, "run folder")->required();
  exp->add_option("out_csv", export_out, "CSV file to write")->required();
  edgerig::CompareCommand compare(app);
  CLI11_PARSE(app, argc, argv);
  if (*exp) return exportCommand(export_run, export_out);
  if (compare.chosen()) return compare.run();

  std::string json;
  std::string source = experiment_path;
  if (experiment_path.empty()) {
    json = edgerig::kQuickstartExperiment;
    source = "quickstart (embedded)";
  } else {
    std::ifstream in(experiment_path);
    if (!in) {
      std::cerr << "edgerig-run: cannot read experiment file '" << experiment_path << "'\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    json = ss.str();
  }
  for (const auto& o : overrides) {
    if (auto st = edgerig::applyOverride(json, o); !st) {
      std::cerr << "edgerig-run: --set " << o << ": " << st.message() << "\n";
      return 2;
    }
  }
  auto names = edgerig::knownNames();
  auto config = edgerig::parseExperiment(json, source, names);
  if (!config) {
    std::cerr << "edgerig-run: " << config.status().message() << "\n";
    return 2;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  edgerig::TerminalReport report(quiet);
  edgerig::RunObserver observer;
  observer.on_progress = [&](const edgerig::RunProgress& p) { report.onProgress(p); };
  observer.on_event = [&](const edgerig::RunEvent& e) { report.onEvent(e); };
  edgerig::ControllerOptions options;
  options.runs_root = runs_root;
  options.run_dir = out_dir;
  options.save_model = save_model;
  edgerig::Controller controller(*config, options, observer);

  // Ctrl-C stops the run at the next iteration boundary; the run folder stays complete.
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGINT || sig == SIGTERM) controller.requestStop();
  });
  auto summary = controller.run();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  report.finish();
  std::cout << edgerig::TerminalReport::summaryTable(summary);
  if (summary.stopped) return 130;  // as a shell reports an interrupted command
  if (!summary.ok) {
    std::cerr << "edgerig-run: " << summary.error << "\n";
    return 1;
  }
  return 0;
}
