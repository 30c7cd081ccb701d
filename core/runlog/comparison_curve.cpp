#include "core/runlog/comparison_curve.h"

#include <algorithm>
#include <optional>

#include "core/runlog/numbers.h"

namespace edgerig {
namespace {

std::string shortPath(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace

Result<std::pair<std::string, std::string>> parseCurveSpec(const std::string& spec) {
  const auto comma = spec.find(',');
  if (comma == std::string::npos || comma == 0 || comma + 1 == spec.size() ||
      spec.find(',', comma + 1) != std::string::npos) {
    return invalidArgument("--xy takes X,Y: two summary.csv columns (either may be A/B), got '" +
                           spec + "'");
  }
  return std::make_pair(spec.substr(0, comma), spec.substr(comma + 1));
}

Result<Curve> curveOf(const Comparison& c, const std::string& x, const std::string& y) {
  const auto header = summaryHeader(c);
  const auto cells = summaryCells(c);
  auto columnOf = [&](const std::string& name) -> Result<size_t> {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it != header.end()) return static_cast<size_t>(it - header.begin());
    std::string known;
    for (const auto& h : header) {
      if (!known.empty()) known += ", ";
      known += h;
    }
    return invalidArgument("--xy: summary.csv has no column '" + name + "' (it has: " + known +
                           ")");
  };
  // A value: one column, or A/B.
  struct Expr {
    size_t num = 0;
    std::optional<size_t> den;
  };
  auto parse = [&](const std::string& e) -> Result<Expr> {
    const auto slash = e.find('/');
    auto num = columnOf(e.substr(0, slash));
    if (!num) return num.status();
    Expr out{*num, std::nullopt};
    if (slash != std::string::npos) {
      auto den = columnOf(e.substr(slash + 1));
      if (!den) return den.status();
      out.den = *den;
    }
    return out;
  };
  auto ex = parse(x);
  if (!ex) return ex.status();
  auto ey = parse(y);
  if (!ey) return ey.status();
  auto value = [&](const std::vector<std::string>& row, const Expr& e) -> std::optional<double> {
    const auto n = parseDouble(row[e.num]);
    if (!n || !e.den) return n;
    const auto d = parseDouble(row[*e.den]);
    if (!d || *d == 0) return std::nullopt;
    return *n / *d;
  };
  Curve curve{x, y, {}};
  std::vector<size_t> rows;  // of the runs with a point
  for (size_t i = 0; i < c.rows.size(); ++i) {
    const auto vx = value(cells[i], *ex);
    const auto vy = value(cells[i], *ey);
    if (!vx || !vy) continue;
    rows.push_back(i);
    curve.points.push_back(CurvePoint{*vx, *vy, c.rows[i].run, "", ""});
  }
  // The settings that differ among the points (every run has the same paths, in one order).
  std::vector<size_t> varying;
  if (!rows.empty()) {
    const auto& first = c.rows[rows.front()].settings;
    for (size_t k = 0; k < first.size(); ++k) {
      for (size_t r : rows) {
        if (c.rows[r].settings.at(k).second != first[k].second) {
          varying.push_back(k);
          break;
        }
      }
    }
  }
  for (size_t p = 0; p < rows.size(); ++p) {
    const auto& settings = c.rows[rows[p]].settings;
    for (size_t v = 0; v < varying.size(); ++v) {
      const auto& [path, value] = settings[varying[v]];
      const std::string part = shortPath(path) + "=" + value;
      std::string& into = v + 1 == varying.size() ? curve.points[p].label : curve.points[p].group;
      if (!into.empty()) into += ' ';
      into += part;
    }
  }
  return curve;
}

}  // namespace edgerig
