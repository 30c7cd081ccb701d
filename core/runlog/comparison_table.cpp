// summaryTable: the comparison on a terminal. One column per run and one line per figure, so that
// many byte kinds and event kinds stay readable; each number of a later run is followed by its
// ratio to the first (baseline) run's.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>
#include <sstream>

#include "core/runlog/run_comparison.h"

namespace edgerig {
namespace {

struct Line {
  std::string label;
  // The value and its text, per run; no value: the run does not have it (text "-").
  std::function<std::optional<double>(const ComparisonRow&)> value;
  std::function<std::string(double)> text;
};

std::string printf1(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

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

std::string percent(double v) { return printf1("%.2f %%", 100 * v); }
std::string seconds(double v) { return printf1("%.1f s", v); }
std::string count(double v) { return printf1("%.0f", v); }

}  // namespace

std::string summaryTable(const Comparison& c) {
  if (c.rows.empty()) return "no runs to compare\n";
  std::vector<Line> lines;
  auto opt = [](auto member) {
    return [member](const ComparisonRow& r) -> std::optional<double> {
      const auto& v = r.*member;
      if (!v) return std::nullopt;
      return static_cast<double>(*v);
    };
  };
  auto num = [](auto member) {
    return [member](const ComparisonRow& r) -> std::optional<double> {
      return static_cast<double>(r.*member);
    };
  };
  lines.push_back({"final test accuracy", opt(&ComparisonRow::final_test_accuracy), percent});
  lines.push_back({"best test accuracy", opt(&ComparisonRow::best_test_accuracy), percent});
  // Only when a run has it (a decentralized one): the devices' averaged model.
  if (std::any_of(c.rows.begin(), c.rows.end(),
                  [](const ComparisonRow& r) { return r.averaged_model_accuracy.has_value(); })) {
    lines.push_back(
        {"averaged model accuracy", opt(&ComparisonRow::averaged_model_accuracy), percent});
  }
  lines.push_back({"wall time", num(&ComparisonRow::wall_time_s), seconds});
  lines.push_back({"time to target", opt(&ComparisonRow::time_to_target_s), seconds});
  lines.push_back({"training time to target", opt(&ComparisonRow::training_to_target_s), seconds});
  lines.push_back({"iterations to target", opt(&ComparisonRow::iterations_to_target), count});
  lines.push_back({"iterations", num(&ComparisonRow::iterations), count});
  lines.push_back({"samples/s (run average)", opt(&ComparisonRow::samples_per_s),
                   [](double v) { return printf1("%.1f", v); }});
  lines.push_back({"samples/s (second half)", opt(&ComparisonRow::samples_per_s_second_half),
                   [](double v) { return printf1("%.1f", v); }});
  lines.push_back({"bytes sent", num(&ComparisonRow::bytes_total), humanBytes});
  std::set<std::string> kinds;
  for (const auto& r : c.rows) {
    for (const auto& [k, b] : r.bytes_by_kind) kinds.insert(k);
  }
  for (const auto& kind : kinds) {
    lines.push_back({"  " + kind,
                     [kind](const ComparisonRow& r) -> std::optional<double> {
                       auto it = r.bytes_by_kind.find(kind);
                       return it == r.bytes_by_kind.end() ? 0.0 : it->second;
                     },
                     humanBytes});
  }
  lines.push_back({"faults", num(&ComparisonRow::faults), count});
  lines.push_back({"re-plans", num(&ComparisonRow::replans), count});
  lines.push_back({"recoveries", num(&ComparisonRow::recoveries), count});
  lines.push_back({"lost devices", num(&ComparisonRow::lost_devices), count});
  lines.push_back({"training time", opt(&ComparisonRow::training_s), seconds});
  lines.push_back({"iterations retrained", num(&ComparisonRow::iterations_retrained), count});
  lines.push_back({"time lost to faults", opt(&ComparisonRow::time_lost_s),
                   [](double v) { return printf1("%.2f s", v); }});
  // Event kinds: only those whose counts differ between runs (summary.csv has every kind).
  std::set<std::string> events;
  for (const auto& r : c.rows) {
    for (const auto& [k, n] : r.events_by_kind) events.insert(k);
  }
  auto eventCount = [](const ComparisonRow& r, const std::string& kind) {
    auto it = r.events_by_kind.find(kind);
    return it == r.events_by_kind.end() ? 0 : it->second;
  };
  for (const auto& kind : events) {
    const int first = eventCount(c.rows.front(), kind);
    const bool differs = std::any_of(c.rows.begin(), c.rows.end(), [&](const ComparisonRow& r) {
      return eventCount(r, kind) != first;
    });
    if (!differs) continue;
    lines.push_back({"events " + kind,
                     [kind, eventCount](const ComparisonRow& r) -> std::optional<double> {
                       return eventCount(r, kind);
                     },
                     count});
  }

  // The grid of text: a header line, the status and settings, then the figures.
  std::vector<std::vector<std::string>> grid;
  std::vector<std::string> header{""};
  for (const auto& r : c.rows) header.push_back(r.run);
  grid.push_back(header);
  std::vector<std::string> status{"status"};
  for (const auto& r : c.rows) status.push_back(r.status);
  grid.push_back(status);
  for (size_t s = 0; s < c.rows.front().settings.size(); ++s) {
    std::vector<std::string> line{c.rows.front().settings[s].first};
    for (const auto& r : c.rows) line.push_back(s < r.settings.size() ? r.settings[s].second : "");
    grid.push_back(line);
  }
  for (const auto& l : lines) {
    std::vector<std::string> line{l.label};
    const auto base = l.value(c.rows.front());
    for (size_t i = 0; i < c.rows.size(); ++i) {
      const auto v = l.value(c.rows[i]);
      std::string text = v ? l.text(*v) : "-";
      if (i > 0 && v && base && *base != 0) text += printf1(" (%.2fx)", *v / *base);
      line.push_back(text);
    }
    grid.push_back(line);
  }

  std::vector<size_t> width(grid.front().size(), 0);
  for (const auto& line : grid) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::ostringstream out;
  if (c.target_accuracy) {
    out << "target accuracy " << printf1("%.4f", *c.target_accuracy)
        << (c.target_given ? " (--target)\n" : " (98 % of the best final test accuracy)\n");
  } else {
    out << "target accuracy: none (no run was evaluated)\n";
  }
  out << "ratios in parentheses are to the first run, " << c.rows.front().run << "\n\n";
  for (const auto& line : grid) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 3, ' ');
    }
    out << text << "\n";
  }
  return out.str();
}

}  // namespace edgerig
