// A curve across the runs of a comparison: one point per run, two of summary.csv's columns
// against each other (for a sweep, such as respipe's replica bytes per iteration against the
// time a failure costs). A plain value, drawn by the control room's renderer (ui/compare_xy.h).
#pragma once

#include <string>
#include <vector>

#include "core/runlog/run_comparison.h"
#include "device_bridge/status.h"

namespace edgerig {

struct CurvePoint {
  double x = 0, y = 0;
  std::string run;
  // Of the settings that differ among the points (paths shortened to their last part,
  // "redundancy=0"): `label` is the last (a sweep's innermost axis), `group` the others; the
  // points of one group make one line.
  std::string group, label;
};

struct Curve {
  std::string x_column, y_column;
  std::vector<CurvePoint> points;  // the runs with both values, in the comparison's order
};

// `x` and `y` name summary.csv columns; either may be A/B, the ratio of two columns
// ("bytes_sent_replica/iterations"). A run whose cell is empty (or a zero divisor) has no point.
// Errors name a column summary.csv does not have, and list those it has.
Result<Curve> curveOf(const Comparison& c, const std::string& x, const std::string& y);

// "X,Y" as --xy takes it; errors say what is wrong.
Result<std::pair<std::string, std::string>> parseCurveSpec(const std::string& spec);

}  // namespace edgerig
