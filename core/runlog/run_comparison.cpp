#include "core/runlog/run_comparison.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/runlog/csv.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/numbers.h"

namespace edgerig {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kBytesPrefix = "bytes_sent_";

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// config.json as dotted paths and values, in the file's order. Arrays of objects (profiles,
// faults) go element by element ("devices.profiles.1.slowdown"); arrays of plain values are one
// value ("[3,5]"). The description is prose, not a setting.
void flatten(const Json& j, const std::string& path,
             std::vector<std::pair<std::string, std::string>>* out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      const std::string sub = path.empty() ? key : path + "." + key;
      if (sub == "description") continue;
      flatten(value, sub, out);
    }
    return;
  }
  const bool objects =
      j.is_array() && std::any_of(j.begin(), j.end(), [](const Json& e) { return e.is_object(); });
  if (objects) {
    for (size_t i = 0; i < j.size(); ++i) flatten(j[i], path + "." + std::to_string(i), out);
    return;
  }
  out->emplace_back(path, j.is_string() ? j.get<std::string>() : j.dump());
}

std::vector<std::pair<std::string, std::string>> flatConfig(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) flatten(j, "", &out);
  return out;
}

std::string cell(const std::optional<double>& v) { return v ? formatValue(*v) : std::string(); }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::vector<std::string> unionKeys(const std::vector<ComparisonRow>& rows,
                                   bool events /* else bytes */) {
  std::set<std::string> keys;
  for (const auto& r : rows) {
    if (events) {
      for (const auto& [k, n] : r.events_by_kind) keys.insert(k);
    } else {
      for (const auto& [k, b] : r.bytes_by_kind) keys.insert(k);
    }
  }
  return {keys.begin(), keys.end()};
}

template <typename Map>
auto valueOr(const Map& m, const std::string& key, typename Map::mapped_type fallback) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

}  // namespace

ComparisonRow summarizeRun(const std::string& name, const std::string& dir, const RunData& run) {
  ComparisonRow row;
  row.run = name;
  row.run_dir = dir;
  row.config_json = run.config_json;
  std::map<std::string, double> last_sent;                            // device -> bytes
  std::map<std::string, std::map<std::string, double>> last_by_kind;  // kind -> device -> bytes
  std::optional<double> average, legacy_rate;
  std::vector<std::pair<int64_t, double>> rates;  // the run-level samples_per_s rows
  std::optional<double> last_loss_at;             // the newest run-level train_loss row
  std::vector<double> loss_times;                 // every run-level train_loss row's time
  for (const MetricSample& m : run.metrics) {
    row.wall_time_s = std::max(row.wall_time_s, m.time_s);
    row.iterations = std::max(row.iterations, m.iteration);
    if (m.device.empty()) {
      if (m.metric == "train_loss") {
        last_loss_at = std::max(last_loss_at.value_or(0.0), m.time_s);
        loss_times.push_back(m.time_s);
      }
      if (m.metric == "test_accuracy")
        row.test_accuracy.push_back({m.time_s, m.iteration, m.value});
      if (m.metric == "averaged_model_accuracy") row.averaged_model_accuracy = m.value;
      if (m.metric == "samples_per_s_average") average = m.value;
      if (m.metric == "samples_per_s") {
        legacy_rate = m.value;
        rates.emplace_back(m.iteration, m.value);
      }
      continue;
    }
    if (m.metric == "bytes_sent") {
      last_sent[m.device] = m.value;
    } else if (startsWith(m.metric, kBytesPrefix) && !m.metric.ends_with("_per_s")) {
      last_by_kind[m.metric.substr(std::string(kBytesPrefix).size())][m.device] = m.value;
    }
  }
  row.samples_per_s = average ? average : legacy_rate;
  if (!rates.empty()) {
    const int64_t half = rates.back().first / 2;
    std::vector<double> late;
    for (const auto& [iteration, rate] : rates) {
      if (iteration > half) late.push_back(rate);
    }
    if (!late.empty()) {
      std::sort(late.begin(), late.end());
      const size_t m = late.size() / 2;
      row.samples_per_s_second_half = late.size() % 2 ? late[m] : (late[m - 1] + late[m]) / 2;
    }
  }
  for (const auto& [device, bytes] : last_sent) row.bytes_total += bytes;
  for (const auto& [kind, devices] : last_by_kind) {
    double sum = 0;
    for (const auto& [device, bytes] : devices) sum += bytes;
    row.bytes_by_kind[kind] = sum;
  }
  if (!row.test_accuracy.empty()) {
    row.final_test_accuracy = row.test_accuracy.back().accuracy;
    double best = row.test_accuracy.front().accuracy;
    for (const auto& p : row.test_accuracy) best = std::max(best, p.accuracy);
    row.best_test_accuracy = best;
  }

  row.status = "incomplete";
  int plans = 0;
  for (const RunEvent& e : run.events) {
    row.wall_time_s = std::max(row.wall_time_s, e.time_s);
    row.iterations = std::max(row.iterations, e.iteration);
    ++row.events_by_kind[e.kind];
    if (e.kind == events::kFaultApplied && !startsWith(e.detail, "profile ")) ++row.faults;
    // A re-plan is any layout after the first: a pipeline's plan or a decentralized graph.
    if (e.kind == events::kPlanChanged || e.kind == events::kGraphChanged) ++plans;
    if (e.kind.find("recover") != std::string::npos && e.kind != events::kRecoveryPhase) {
      ++row.recoveries;  // a recovery_phase is a part of one
    }
    if (e.kind == events::kDeviceLost) ++row.lost_devices;
    if (e.kind == events::kRunFinished) row.status = "finished";
    if (e.kind == events::kRunStopped) row.status = "stopped";
    if (e.kind == events::kRunFailed) row.status = "failed";
    if (e.kind == events::kTrainingStarted && last_loss_at && !row.training_s) {
      row.training_s = std::max(0.0, *last_loss_at - e.time_s);
    }
    if (e.kind == events::kRecovered) {
      const auto n = parseInt64(e.field(events::fields::kIterationsRetrained));
      if (n && *n > 0) row.iterations_retrained += *n;
    }
  }
  row.replans = std::max(0, plans - 1);
  // Each evaluation's training time: since training started, less every evaluation so far (from
  // the last train_loss row before its result to the result).
  std::optional<double> started;
  for (const RunEvent& e : run.events) {
    if (e.kind == events::kTrainingStarted) {
      started = e.time_s;
      break;
    }
  }
  if (started) {
    std::sort(loss_times.begin(), loss_times.end());
    double evaluating = 0;
    for (auto& p : row.test_accuracy) {
      auto after = std::upper_bound(loss_times.begin(), loss_times.end(), p.time_s);
      const double from = after == loss_times.begin() ? *started : std::max(*started, *(after - 1));
      evaluating += std::max(0.0, p.time_s - from);
      p.training_s = std::max(0.0, p.time_s - *started - evaluating);
    }
  }
  return row;
}

Comparison compareRuns(std::vector<ComparisonRow> rows, std::optional<double> target) {
  Comparison c;
  c.target_given = target.has_value();
  if (target) {
    c.target_accuracy = *target;
  } else {
    std::optional<double> best;
    for (const auto& r : rows) {
      if (r.final_test_accuracy) best = std::max(best.value_or(0.0), *r.final_test_accuracy);
    }
    // Rounded so that summary.csv states the target that was applied.
    if (best) c.target_accuracy = std::round(kDefaultTargetFraction * *best * 1e4) / 1e4;
  }
  for (auto& r : rows) {
    r.time_to_target_s.reset();
    r.training_to_target_s.reset();
    r.iterations_to_target.reset();
    if (!c.target_accuracy) continue;
    for (const auto& p : r.test_accuracy) {
      if (p.accuracy >= *c.target_accuracy) {
        r.time_to_target_s = p.time_s;
        r.training_to_target_s = p.training_s;
        r.iterations_to_target = p.iteration;
        break;
      }
    }
  }

  // Settings: every path whose value is not the same in all runs (or is missing from some).
  std::vector<std::vector<std::pair<std::string, std::string>>> flat;
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& r : rows) {
    flat.push_back(flatConfig(r.config_json));
    for (const auto& [path, value] : flat.back()) {
      if (seen.insert(path).second) order.push_back(path);
    }
  }
  auto lookup = [](const std::vector<std::pair<std::string, std::string>>& f,
                   const std::string& path) -> std::optional<std::string> {
    for (const auto& [p, v] : f) {
      if (p == path) return v;
    }
    return std::nullopt;
  };
  for (const auto& path : order) {
    bool differs = false;
    const auto first = lookup(flat.front(), path);
    for (size_t i = 1; i < flat.size() && !differs; ++i) differs = lookup(flat[i], path) != first;
    if (!differs) continue;
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].settings.emplace_back(path, lookup(flat[i], path).value_or(""));
    }
  }
  // Time lost: each faulted run against its fault-free twin (the same settings but the faults').
  auto withoutFaults = [&](size_t i) {
    std::vector<std::pair<std::string, std::string>> kept;
    for (const auto& [path, value] : flat[i]) {
      if (!startsWith(path, "faults")) kept.emplace_back(path, value);
    }
    return kept;
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    ComparisonRow& r = rows[i];
    r.time_lost_s.reset();
    if (r.faults == 0 || !r.training_s) continue;
    const auto mine = withoutFaults(i);
    for (size_t j = 0; j < rows.size(); ++j) {
      const ComparisonRow& twin = rows[j];
      if (j == i || twin.faults > 0 || twin.lost_devices > 0 || !twin.training_s ||
          twin.iterations <= 0 || withoutFaults(j) != mine) {
        continue;
      }
      const double pace = *twin.training_s / static_cast<double>(twin.iterations);
      r.time_lost_s =
          *r.training_s - *twin.training_s + static_cast<double>(r.iterations_retrained) * pace;
      break;
    }
  }
  c.rows = std::move(rows);
  return c;
}

std::vector<std::string> uniqueRunNames(const std::vector<std::string>& dirs) {
  std::vector<std::string> names;
  std::set<std::string> taken;
  for (const auto& d : dirs) {
    std::string base = fs::path(d).lexically_normal().filename().string();
    if (base.empty() || base == ".") {
      base = fs::path(d).lexically_normal().parent_path().filename().string();
    }
    if (base.empty()) base = "run";
    std::string name = base;
    for (int n = 2; !taken.insert(name).second; ++n) name = base + "-" + std::to_string(n);
    names.push_back(name);
  }
  return names;
}

Result<std::vector<std::string>> expandRunFolders(const std::vector<std::string>& paths) {
  std::vector<std::string> dirs;
  auto isRun = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p / kMetricsFile, ec);
  };
  for (const auto& path : paths) {
    const fs::path dir = fs::path(path).lexically_normal();
    std::error_code ec;
    if (isRun(dir)) {
      dirs.push_back(path);
      continue;
    }
    if (!fs::exists(dir, ec)) {
      return notFound(path + ": no such folder: name a run folder (runs/<time>-<name>)");
    }
    if (!fs::is_directory(dir, ec)) {
      return invalidArgument(path + ": not a folder: name a run folder (runs/<time>-<name>)");
    }
    std::vector<std::string> inside;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_directory() && isRun(e.path())) inside.push_back(e.path().filename().string());
    }
    std::sort(inside.begin(), inside.end());
    if (inside.empty()) {
      return invalidArgument(path + ": neither a run folder (no " + kMetricsFile +
                             ") nor a comparison folder (no run folders inside)");
    }
    // The comparison's own order first (its baseline leads), then any other run folder.
    std::vector<std::string> ordered;
    std::ifstream summary(dir / kSummaryFile, std::ios::binary);
    std::ostringstream text;
    text << summary.rdbuf();
    if (auto rows = parseCsv(text.str());
        rows && !rows->empty() && !rows->front().empty() && rows->front().front() == "run") {
      for (size_t r = 1; r < rows->size(); ++r) {
        if ((*rows)[r].empty()) continue;
        const std::string& name = (*rows)[r].front();
        if (std::find(inside.begin(), inside.end(), name) != inside.end() &&
            std::find(ordered.begin(), ordered.end(), name) == ordered.end()) {
          ordered.push_back(name);
        }
      }
    }
    for (const auto& name : inside) {
      if (std::find(ordered.begin(), ordered.end(), name) == ordered.end()) ordered.push_back(name);
    }
    for (const auto& name : ordered) dirs.push_back((fs::path(path) / name).string());
  }
  return dirs;
}

Result<Comparison> compareRunDirs(const std::vector<std::string>& dirs,
                                  std::optional<double> target) {
  if (dirs.empty()) return invalidArgument("no run folders to compare");
  const auto names = uniqueRunNames(dirs);
  std::vector<ComparisonRow> rows;
  for (size_t i = 0; i < dirs.size(); ++i) {
    auto run = readRun(dirs[i]);
    if (!run) return Status(run.status().code(), dirs[i] + ": " + run.status().message());
    rows.push_back(summarizeRun(names[i], dirs[i], *run));
  }
  return compareRuns(std::move(rows), target);
}

std::vector<std::string> summaryHeader(const Comparison& c) {
  std::vector<std::string> h{"run", "status"};
  if (!c.rows.empty()) {
    for (const auto& [path, value] : c.rows.front().settings) h.push_back(path);
  }
  for (const char* col :
       {"final_test_accuracy", "best_test_accuracy", "averaged_model_accuracy", "wall_time_s",
        "target_accuracy", "time_to_target_s", "training_to_target_s", "iterations_to_target",
        "iterations", "samples_per_s", "samples_per_s_second_half", "bytes_total"}) {
    h.push_back(col);
  }
  for (const auto& kind : unionKeys(c.rows, /*events=*/false)) h.push_back(kBytesPrefix + kind);
  for (const char* col : {"faults", "replans", "recoveries", "lost_devices", "training_s",
                          "iterations_retrained", "time_lost_s"}) {
    h.push_back(col);
  }
  for (const auto& kind : unionKeys(c.rows, /*events=*/true)) h.push_back("events_" + kind);
  return h;
}

std::vector<std::vector<std::string>> summaryCells(const Comparison& c) {
  const auto kinds = unionKeys(c.rows, /*events=*/false);
  const auto events = unionKeys(c.rows, /*events=*/true);
  std::vector<std::vector<std::string>> out;
  for (const auto& r : c.rows) {
    std::vector<std::string> row{r.run, r.status};
    for (const auto& [path, value] : r.settings) row.push_back(value);
    row.push_back(cell(r.final_test_accuracy));
    row.push_back(cell(r.best_test_accuracy));
    row.push_back(cell(r.averaged_model_accuracy));
    row.push_back(formatTime(r.wall_time_s));
    row.push_back(cell(c.target_accuracy));
    row.push_back(r.time_to_target_s ? formatTime(*r.time_to_target_s) : "");
    row.push_back(r.training_to_target_s ? formatTime(*r.training_to_target_s) : "");
    row.push_back(r.iterations_to_target ? std::to_string(*r.iterations_to_target) : "");
    row.push_back(std::to_string(r.iterations));
    row.push_back(r.samples_per_s ? fixed(*r.samples_per_s, 2) : "");
    row.push_back(r.samples_per_s_second_half ? fixed(*r.samples_per_s_second_half, 2) : "");
    row.push_back(formatValue(r.bytes_total));
    for (const auto& k : kinds) row.push_back(formatValue(valueOr(r.bytes_by_kind, k, 0.0)));
    for (int n : {r.faults, r.replans, r.recoveries, r.lost_devices}) {
      row.push_back(std::to_string(n));
    }
    row.push_back(r.training_s ? formatTime(*r.training_s) : "");
    row.push_back(std::to_string(r.iterations_retrained));
    row.push_back(r.time_lost_s ? formatTime(*r.time_lost_s) : "");
    for (const auto& k : events) row.push_back(std::to_string(valueOr(r.events_by_kind, k, 0)));
    out.push_back(std::move(row));
  }
  return out;
}

std::string summaryCsv(const Comparison& c) {
  std::string text = csvRow(summaryHeader(c));
  for (const auto& row : summaryCells(c)) text += csvRow(row);
  return text;
}

Status writeSummaryCsv(const Comparison& c, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return unavailable("cannot create " + path + ": check the folder exists and is writable");
  out << summaryCsv(c);
  out.close();
  if (!out) return unavailable("cannot write " + path + ": check free space");
  return Status::ok();
}

}  // namespace edgerig
