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

Result<CurveSpec> parseCurveSpec(const std::string& spec) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (;;) {
    const auto comma = spec.find(',', from);
    parts.push_back(
        spec.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  const bool empty =
      std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); });
  if (parts.size() < 2 || parts.size() > 3 || empty) {
    return invalidArgument(
        "--xy takes X,Y or X,Y,ALONG: two summary.csv columns (either may be "
        "A/B) and the setting the lines run along, got '" +
        spec + "'");
  }
  return CurveSpec{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
}

Result<Curve> curveOf(const Comparison& c, const CurveSpec& spec) {
  const std::string& x = spec.x;
  const std::string& y = spec.y;
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
  // The one the lines run along: named, else the last.
  size_t along = varying.empty() ? 0 : varying.size() - 1;
  if (!spec.along.empty()) {
    const auto& settings = c.rows.front().settings;
    auto named = std::find_if(varying.begin(), varying.end(), [&](size_t k) {
      return settings[k].first == spec.along || shortPath(settings[k].first) == spec.along;
    });
    if (named == varying.end()) {
      std::string known;
      for (size_t k : varying) {
        if (!known.empty()) known += ", ";
        known += settings[k].first;
      }
      return invalidArgument("--xy: '" + spec.along +
                             "' is not a setting that differs among the points (those are: " +
                             (known.empty() ? "none" : known) + ")");
    }
    along = static_cast<size_t>(named - varying.begin());
  }
  for (size_t p = 0; p < rows.size(); ++p) {
    const auto& settings = c.rows[rows[p]].settings;
    for (size_t v = 0; v < varying.size(); ++v) {
      const auto& [path, value] = settings[varying[v]];
      const std::string part = shortPath(path) + "=" + value;
      std::string& into = v == along ? curve.points[p].label : curve.points[p].group;
      if (!into.empty()) into += ' ';
      into += part;
    }
  }
  return curve;
}

}  // namespace edgerig
