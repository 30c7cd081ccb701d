// The control room comparing long runs: N fake run folders of M iterations each (tests/support's
// writer: the metrics and device reports a real run writes) opened with Compare runs, then every
// chart replotted at the views a person uses (all of it, a zoom to a tenth, a pan, wall time).
// Prints the replot time per chart against the same charts fed every point undecimated.
#pragma once

#include <cstdint>

namespace edgerig::bench {

struct CompareBenchOptions {
  int runs = 10;
  int64_t iterations = 10000;
  int repeats = 5;  // replots per chart and view
};

// Needs a QApplication. Returns the exit status (0 when the target, <= 20 ms per chart, is met).
int runCompareBench(const CompareBenchOptions& options);

}  // namespace edgerig::bench
