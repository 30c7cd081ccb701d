// How the pipeline coordinators write numbers into event details and fields: one format each,
// so that "cuts", "capacities" and "seconds" read the same in every pipeline algorithm's events.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace edgerig::pipeline_text {

// "2 4 6": a plan's cuts, a list of devices' indices.
inline std::string joined(const std::vector<int>& v) {
  std::string out;
  for (int x : v) {
    if (!out.empty()) out += ' ';
    out += std::to_string(x);
  }
  return out;
}

// "1 0.5 0.333": capacities, measured times (four significant digits).
inline std::string joined(const std::vector<double>& v) {
  std::string out;
  char buf[32];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, "%.4g", x);
    if (!out.empty()) out += ' ';
    out += buf;
  }
  return out;
}

// "0.125": seconds to the millisecond.
inline std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace edgerig::pipeline_text
