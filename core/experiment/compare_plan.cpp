#include "core/experiment/compare_plan.h"

#include <cctype>
#include <set>

#include "core/experiment/experiment.h"

namespace edgerig {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// One value of one axis: a label for the run's name and the settings it applies.
struct AxisValue {
  std::string label;
  std::vector<std::string> assignments;
};

std::string lastComponent(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace

std::vector<std::string> splitTopLevel(std::string_view text) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\' && i + 1 < text.size()) {
        current += c;
        current += text[++i];
        continue;
      }
      if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  parts.push_back(trim(current));
  return parts;
}

std::string runFolderName(std::string_view label) {
  std::string out;
  for (const char c : label) {
    const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                      c == '=' || c == '+' || c == '-';
    out += keep ? c : '_';
  }
  if (out.empty()) return "run";
  if (out.front() == '.') out.front() = '_';  // no hidden folders, no ".."
  return out;
}

Result<CompareVariant> parseVariant(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string name = trim(spec.substr(0, colon));
  if (colon == std::string_view::npos || name.empty()) {
    return invalidArgument("--variant " + std::string(spec) +
                           ": expected NAME:PATH=VALUE[,PATH=VALUE...], e.g. "
                           "even:algorithm.plan=even (or NAME: for the experiment as it is)");
  }
  CompareVariant v;
  v.name = name;
  const std::string rest = trim(spec.substr(colon + 1));
  if (rest.empty()) return v;
  for (const auto& a : splitTopLevel(rest)) {
    const size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return invalidArgument("--variant " + std::string(spec) + ": \"" + a +
                             "\" is not PATH=VALUE, e.g. training.batchSize=32");
    }
    v.assignments.push_back(a);
  }
  return v;
}

Result<CompareSweep> parseSweep(std::string_view spec) {
  const size_t eq = spec.find('=');
  CompareSweep s;
  s.path = trim(spec.substr(0, eq == std::string_view::npos ? spec.size() : eq));
  if (eq == std::string_view::npos || s.path.empty()) {
    return invalidArgument("--sweep " + std::string(spec) +
                           ": expected PATH=V1,V2,..., e.g. algorithm.microBatches=2,4,8");
  }
  s.values = splitTopLevel(spec.substr(eq + 1));
  for (const auto& v : s.values) {
    if (v.empty()) {
      return invalidArgument("--sweep " + std::string(spec) +
                             ": an empty value; list the values separated by commas");
    }
  }
  return s;
}

Result<std::vector<PlannedRun>> planComparison(const CompareSpec& spec) {
  if (spec.experiments.empty()) return invalidArgument("no experiment to compare");
  std::vector<std::vector<AxisValue>> axes;
  if (spec.experiments.size() > 1) {
    std::vector<AxisValue> files;
    for (size_t i = 0; i < spec.experiments.size(); ++i) {
      files.push_back({spec.experiments[i].label, {}});
    }
    axes.push_back(files);
  }
  if (!spec.variants.empty()) {
    std::vector<AxisValue> variants;
    for (const auto& v : spec.variants) variants.push_back({v.name, v.assignments});
    axes.push_back(variants);
  }
  std::multiset<std::string> last_names;
  for (const auto& s : spec.sweeps) last_names.insert(lastComponent(s.path));
  for (const auto& s : spec.sweeps) {
    // "microBatches=2" names the run, unless two sweeps end in the same field name.
    const std::string key =
        last_names.count(lastComponent(s.path)) > 1 ? s.path : lastComponent(s.path);
    std::vector<AxisValue> values;
    for (const auto& v : s.values) values.push_back({key + "=" + v, {s.path + "=" + v}});
    axes.push_back(values);
  }

  // Every run takes the first experiment's seed, so that they differ only in what is compared.
  std::string seed;
  if (spec.experiments.size() > 1) {
    auto first =
        parseExperiment(spec.experiments.front().json, spec.experiments.front().label, spec.names);
    if (!first) return first.status();
    seed = "seed=" + std::to_string(first->seed);
  }

  // The grid, odometer order: the last axis turns fastest.
  std::vector<size_t> at(axes.size(), 0);
  std::vector<PlannedRun> runs;
  std::set<std::string> taken;
  for (bool more = true; more;) {
    PlannedRun run;
    std::string label;
    size_t experiment = 0;
    for (size_t a = 0; a < axes.size(); ++a) {
      const AxisValue& v = axes[a][at[a]];
      label += (label.empty() ? "" : "_") + v.label;
      run.assignments.insert(run.assignments.end(), v.assignments.begin(), v.assignments.end());
      if (a == 0 && spec.experiments.size() > 1) experiment = at[a];
    }
    if (label.empty()) label = spec.experiments.front().label;
    const std::string base = runFolderName(label);
    run.name = base;
    for (int n = 2; !taken.insert(run.name).second; ++n) run.name = base + "-" + std::to_string(n);

    run.json = spec.experiments[experiment].json;
    std::vector<std::string> settings;
    if (experiment > 0) settings.push_back(seed);
    settings.insert(settings.end(), spec.overrides.begin(), spec.overrides.end());
    settings.insert(settings.end(), run.assignments.begin(), run.assignments.end());
    for (const auto& s : settings) {
      if (auto st = applyOverride(run.json, s); !st) {
        return invalidArgument("run " + run.name + ": " + st.message());
      }
    }
    runs.push_back(std::move(run));

    more = false;
    for (size_t a = axes.size(); a-- > 0;) {
      if (++at[a] < axes[a].size()) {
        more = true;
        break;
      }
      at[a] = 0;
    }
  }
  return runs;
}

}  // namespace edgerig
