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
  // "redundancy=0"): `label` is the one the lines run along (by default the last in the
  // experiment's order), `group` the others; the points of one group make one line.
  std::string group, label;
};

struct Curve {
  std::string x_column, y_column;
  std::vector<CurvePoint> points;  // the runs with both values, in the comparison's order
};

struct CurveSpec {
  std::string x, y;
  std::string along;  // a setting (its path, or the path's last part); empty: the default
};

// `x` and `y` name summary.csv columns; either may be A/B, the ratio of two columns
// ("bytes_sent_replica/iterations"). A run whose cell is empty (or a zero divisor) has no point.
// `along` names the setting each line runs along. Errors name a column summary.csv does not
// have (listing those it has), or an `along` that is not a setting differing among the points.
Result<Curve> curveOf(const Comparison& c, const CurveSpec& spec);

// "X,Y" or "X,Y,ALONG" as --xy takes it; errors say what is wrong.
Result<CurveSpec> parseCurveSpec(const std::string& spec);

}  // namespace edgerig
