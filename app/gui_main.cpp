// edgerig: the Qt control room. `edgerig [EXPERIMENT.json] [--demo]`; --demo starts the
// embedded quickstart at once; `edgerig --compare RUN_DIR...` (or a folder given without it)
// opens runs overlaid (a comparison folder stands for its runs). --screenshot PATH --after S saves
// the window mid-run and quits. Ctrl-C (or SIGTERM) closes the window as its close button does: the
// run stops at the next iteration boundary, its folder ends with run_stopped, and the exit status
// is 130.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QFileInfo>
#include <QMessageBox>
#include <QSocketNotifier>
#include <QTimer>
#include <cstdio>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "quickstart_experiment.h"
#include "ui/algorithm_panel.h"
#include "ui/link_bandwidth_dialog.h"
#include "ui/main_window.h"
#include "ui/plot_panel.h"

namespace {

int g_signal_fd[2] = {-1, -1};
volatile sig_atomic_t g_signalled = 0;

void onSignal(int) {
  g_signalled = 1;
  const char c = 1;
  (void)!write(g_signal_fd[1], &c, 1);
}

// The handler only writes a byte; the window is closed from the event loop. A second signal
// takes the default action (SA_RESETHAND): a stuck shutdown can still be interrupted.
void closeOnSignals(QWidget& window) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g_signal_fd) != 0) return;
  auto* notifier = new QSocketNotifier(g_signal_fd[0], QSocketNotifier::Read, &window);
  QObject::connect(notifier, &QSocketNotifier::activated, &window, [&window] {
    char c = 0;
    (void)!read(g_signal_fd[0], &c, 1);
    window.close();
  });
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("edgerig");
  QApplication::setApplicationName("edgerig");
  QApplication::setApplicationVersion("0.1.0");

  QCommandLineParser cli;
  cli.setApplicationDescription(
      "edgerig control room: train a network across edge devices, "
      "inject faults and watch it live.");
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addPositionalArgument("experiment",
                            "Experiment JSON file to open; or a run folder to replay; or "
                            "run or comparison folders to overlay (as with --compare).",
                            "[EXPERIMENT.json | RUN_DIR...]");
  QCommandLineOption demo("demo", "Start the built-in quickstart experiment at once.");
  QCommandLineOption compare("compare", "Open the run folders given overlaid, with their summary.");
  QCommandLineOption wall_time("wall-time", "Plot against wall time instead of iteration.");
  QCommandLineOption runs("runs", "Folder for run folders (default: runs).", "DIR", "runs");
  QCommandLineOption shot("screenshot", "Save a PNG of the window, then quit.", "PATH");
  QCommandLineOption after("after", "Seconds before --screenshot (default 20).", "SECONDS", "20");
  QCommandLineOption switch_at(
      "switch",
      "After SECONDS, switch the run to ALGORITHM (its default parameters), as the Algorithm "
      "tab's Apply does; repeatable. For scripted demos and screenshots.",
      "SECONDS:ALGORITHM");
  QCommandLineOption show_panel(
      "show",
      "Bring the panel titled PANEL (e.g. \"Data shards\") to the front "
      "of its tab group (\"Link bandwidth\" opens that dialog, which --screenshot "
      "then saves instead of the window); repeatable.",
      "PANEL");
  cli.addOptions({demo, compare, wall_time, runs, shot, after, switch_at, show_panel});
  cli.process(app);

  edgerig::ui::MainWindow window;
  window.setRunsRoot(cli.value(runs));
  auto quickstart =
      edgerig::parseExperiment(edgerig::kQuickstartExperiment, "quickstart", edgerig::knownNames());
  if (!quickstart) {
    std::fprintf(stderr, "edgerig: %s\n", quickstart.status().message().c_str());
    return 2;
  }
  window.setExperiment(*quickstart, "built-in quickstart");
  if (cli.isSet(wall_time)) window.plots()->setXAxis(edgerig::ui::PlotPanel::XAxis::kWallTime);
  const QStringList files = cli.positionalArguments();
  const bool folders = !files.isEmpty() && QFileInfo(files.first()).isDir();
  if (folders && files.size() == 1 && !cli.isSet(compare)) {  // one run folder: replay it
    if (auto st = window.openRun(files.first()); !st) {
      std::fprintf(stderr, "edgerig: %s\n", st.message().c_str());
      return 2;
    }
  } else if (cli.isSet(compare) || folders) {  // folders: runs (or comparisons) overlaid
    if (auto st = window.compareRuns(files); !st) {
      std::fprintf(stderr, "edgerig: --compare: %s\n", st.message().c_str());
      return 2;
    }
  } else if (!files.isEmpty()) {
    if (auto st = window.openExperiment(files.first()); !st) {
      std::fprintf(stderr, "edgerig: %s\n", st.message().c_str());
      return 2;
    }
  }
  window.show();
  closeOnSignals(window);
  for (const QString& title : cli.values(show_panel)) {
    if (title == "Link bandwidth") {  // a dialog, not a panel: --screenshot then grabs it
      window.showLinkBandwidth();
      continue;
    }
    QDockWidget* found = nullptr;
    QStringList titles;
    for (auto* dock : window.findChildren<QDockWidget*>()) {
      titles << dock->windowTitle();
      if (dock->windowTitle() == title) found = dock;
    }
    if (found == nullptr) {
      std::fprintf(stderr,
                   "edgerig: --show: no panel titled '%s' (panels: %s; or \"Link bandwidth\")\n",
                   qPrintable(title), qPrintable(titles.join(", ")));
      return 2;
    }
    found->show();
    found->raise();
  }

  if (cli.isSet(demo)) {
    QTimer::singleShot(0, &window, [&window] {
      if (auto st = window.startRun(); !st) {
        QMessageBox::warning(&window, "Start run", QString::fromStdString(st.message()));
      }
    });
  }
  for (const QString& spec : cli.values(switch_at)) {
    const QString seconds = spec.section(':', 0, 0), name = spec.section(':', 1);
    bool ok = false;
    const double at = seconds.toDouble(&ok);
    const edgerig::AlgorithmInfo* info = edgerig::findAlgorithm(name.toStdString());
    if (!ok || at < 0 || info == nullptr) {
      QStringList known;
      for (const auto& n : edgerig::algorithmNames()) known << QString::fromStdString(n);
      std::fprintf(stderr, "edgerig: --switch expects SECONDS:ALGORITHM (one of %s), got '%s'\n",
                   qPrintable(known.join(", ")), qPrintable(spec));
      return 2;
    }
    QTimer::singleShot(static_cast<int>(at * 1000), &window, [&window, info] {
      auto* panel = window.algorithmPanel();
      panel->setAlgorithm(edgerig::AlgorithmConfig{info->name, edgerig::defaultParams(*info)});
      panel->requestSwitch();
    });
  }
  int exit_code = 0;
  if (cli.isSet(shot)) {
    bool ok = false;
    const double seconds = cli.value(after).toDouble(&ok);
    if (!ok || seconds < 0) {
      std::fprintf(stderr, "edgerig: --after expects seconds, got '%s'\n",
                   qPrintable(cli.value(after)));
      return 2;
    }
    const QString path = cli.value(shot);
    QTimer::singleShot(static_cast<int>(seconds * 1000), &window, [&window, &exit_code, path] {
      auto* links = window.linkBandwidth();
      QWidget* target = links->isVisible() ? static_cast<QWidget*>(links) : &window;
      if (!target->grab().save(path)) {
        std::fprintf(stderr, "edgerig: could not write the screenshot to %s\n", qPrintable(path));
        exit_code = 1;
      }
      window.close();  // stops the run first; the window closes once it has wound down
    });
  }
  const int rc = app.exec();
  if (exit_code != 0) return exit_code;
  return g_signalled ? 130 : rc;
}
