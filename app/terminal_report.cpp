#include "terminal_report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string_view>

#include "core/runlog/event_kinds.h"
#include "device_bridge/traffic_kind.h"

namespace edgerig {
namespace {

std::string humanBytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string clock(double s) {
  char buf[32];
  const int t = static_cast<int>(s + 0.5);
  std::snprintf(buf, sizeof buf, "%d:%02d", t / 60, t % 60);
  return buf;
}

}  // namespace

TerminalReport::TerminalReport(bool quiet) : tty_(isatty(STDOUT_FILENO) == 1), quiet_(quiet) {}

void TerminalReport::clearBar() {
  if (bar_shown_) {
    std::printf("\r\033[2K");
    bar_shown_ = false;
  }
}

void TerminalReport::onProgress(const RunProgress& p) {
  std::lock_guard lock(mu_);
  last_ = p;
  if (quiet_) return;
  const double frac = p.total_iterations > 0 ? static_cast<double>(p.iteration) /
                                                   static_cast<double>(p.total_iterations)
                                             : 0;
  const double eta = frac > 0 ? p.elapsed_s * (1 - frac) / frac : 0;
  char test[24] = "  -  ";
  if (p.test_accuracy >= 0) std::snprintf(test, sizeof test, "%5.1f%%", 100 * p.test_accuracy);
  if (tty_) {
    constexpr int kWidth = 28;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::printf(
        "\r\033[2K[%s] %3.0f%%  it %lld/%lld  epoch %.2f  loss %.3f  acc %5.1f%%  test %s  "
        "%.0f samples/s  ETA %s",
        bar.c_str(), 100 * frac, static_cast<long long>(p.iteration),
        static_cast<long long>(p.total_iterations), p.epoch, p.train_loss, 100 * p.train_accuracy,
        test, p.samples_per_s, clock(eta).c_str());
    std::fflush(stdout);
    bar_shown_ = true;
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - last_line_ < std::chrono::seconds(5) && p.iteration != p.total_iterations) return;
  last_line_ = now;
  std::printf(
      "progress: it %lld/%lld (%.0f%%) epoch %.2f loss %.4f train_acc %.3f test_acc %s "
      "samples/s %.0f elapsed %s\n",
      static_cast<long long>(p.iteration), static_cast<long long>(p.total_iterations), 100 * frac,
      p.epoch, p.train_loss, p.train_accuracy, test, p.samples_per_s, clock(p.elapsed_s).c_str());
  std::fflush(stdout);
}

void TerminalReport::onEvent(const RunEvent& e) {
  static constexpr std::string_view kShown[] = {
      events::kRunStarted,   events::kDeviceJoined,   events::kPlanChanged,
      events::kGraphChanged, events::kFaultApplied,   events::kFaultCleared,
      events::kDeviceLost,   events::kDeviceRejoined, events::kRecovered,
      events::kError,        events::kRunFailed,      events::kRunStopped,
      events::kEvaluation,   events::kStopRule,       events::kAlgorithmSwitched,
      events::kTakeover,     events::kLearningRate};
  if (quiet_ && e.kind != events::kRunFailed) return;
  if (std::none_of(std::begin(kShown), std::end(kShown),
                   [&](std::string_view k) { return e.kind == k; }))
    return;
  std::lock_guard lock(mu_);
  clearBar();
  std::printf("[%7.2f s] %-14s %s%s\n", e.time_s, e.kind.c_str(),
              e.device.empty() ? "" : (e.device + ": ").c_str(), e.detail.c_str());
  std::fflush(stdout);
}

void TerminalReport::finish() {
  std::lock_guard lock(mu_);
  if (bar_shown_) std::printf("\n");
  bar_shown_ = false;
}

std::string TerminalReport::summaryTable(const RunSummary& s) {
  std::ostringstream out;
  char buf[256];
  out << "\n== " << s.experiment << ": "
      << (s.ok        ? "finished"
          : s.stopped ? "stopped on request"
                      : "FAILED")
      << " ==\n";
  if (!s.ok && !s.stopped) out << "reason:         " << s.error << "\n";
  std::snprintf(buf, sizeof buf, "algorithm:      %s, model %s\nlayout:         %s\n",
                s.algorithm.c_str(), s.model.c_str(), s.plan.c_str());
  out << buf;
  if (s.test_accuracy >= 0) {
    std::snprintf(buf, sizeof buf, "test accuracy:  %.2f %% (loss %.4f)\n", 100 * s.test_accuracy,
                  s.test_loss);
    out << buf;
  }
  if (s.averaged_model_accuracy >= 0) {
    std::snprintf(buf, sizeof buf,
                  "averaged model: %.2f %% (the devices' models averaged; the line above is "
                  "their own)\n",
                  100 * s.averaged_model_accuracy);
    out << buf;
  }
  std::snprintf(buf, sizeof buf,
                "iterations:     %lld (%.2f epochs)\ntime:           %.1f s total, %.1f s "
                "training\nthroughput:     %.1f samples/s\n",
                static_cast<long long>(s.iterations), s.epochs, s.elapsed_s, s.training_s,
                s.samples_per_s);
  out << buf;
  if (!s.devices.empty()) {
    out << "\ndevice  state     stage  layers  slowdown  busy s  idle s  sent       received   "
           "RSS MiB\n";
    for (const auto& d : s.devices) {
      // A pipeline stage and its layers (inclusive, as a person counts them); "all" for a
      // device that held the whole model (decentralized).
      char stage[16] = "    -", layers[24] = "all   ";
      if (d.stage >= 0) {
        std::snprintf(stage, sizeof stage, "%5d", d.stage);
        std::snprintf(layers, sizeof layers, "%2d-%-3d", d.first_layer, d.last_layer - 1);
      }
      std::snprintf(buf, sizeof buf, "%-7s %-9s %s  %s  %8.1f  %6.1f  %6.1f  %-10s %-10s %7.0f\n",
                    d.name.c_str(), deviceStateName(d.state), stage, layers, d.slowdown, d.busy_s,
                    d.idle_s, humanBytes(d.bytes_sent).c_str(),
                    humanBytes(d.bytes_received).c_str(), d.resident_mb);
      out << buf;
    }
  }
  // Bytes per link: training traffic only (the control links are the controller's own).
  std::map<std::pair<std::string, std::string>, std::map<std::string, uint64_t>> links;
  for (const auto& l : s.links) {
    if (l.to == "controller") continue;
    links[{l.from, l.to}][l.kind] += l.bytes;
  }
  // One column per traffic kind that carried anything between devices.
  std::vector<std::string> kinds;
  for (bridge::TrafficKind k : bridge::kReportedTrafficKinds) {
    const std::string name(bridge::trafficKindName(k));
    for (const auto& [link, by_kind] : links) {
      if (by_kind.count(name) && by_kind.at(name) > 0) {
        kinds.push_back(name);
        break;
      }
    }
  }
  if (!links.empty()) {
    out << "\nlink             ";
    for (const auto& k : kinds) {
      std::snprintf(buf, sizeof buf, " %-11s", k.c_str());
      out << buf;
    }
    out << "\n";
    for (const auto& [k, by_kind] : links) {
      std::snprintf(buf, sizeof buf, "%-17s", (k.first + " -> " + k.second).c_str());
      out << buf;
      for (const auto& kind : kinds) {
        auto it = by_kind.find(kind);
        std::snprintf(
            buf, sizeof buf, " %-11s",
            humanBytes(it == by_kind.end() ? 0.0 : static_cast<double>(it->second)).c_str());
        out << buf;
      }
      out << "\n";
    }
  }
  out << "\nrun folder:     " << s.run_dir << "\n";
  return out.str();
}

}  // namespace edgerig
