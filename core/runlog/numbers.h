// How the run folder prints and reads numbers: exact, but as short as the value allows, so a
// metrics.csv stays small and readable and a replay sees what the run measured.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edgerig {

// Shortest text that reads back as the same value. Whole numbers print as integers (byte counts
// stay exact and readable: 1000000000000, not 1e+12). A fraction that is exactly a float (losses
// and accuracies come from float tensors) prints with float's shortest digits, "0.3" rather than
// "0.30000001192092896", and reads back as the same float. Non-finite values print as nan, inf,
// -inf.
std::string formatValue(double v);

// Seconds since the run started, at millisecond resolution: "12.345".
std::string formatTime(double seconds);

// The whole field must be a number (no spaces); nan and inf are accepted.
std::optional<double> parseDouble(std::string_view text);
std::optional<int64_t> parseInt64(std::string_view text);

}  // namespace edgerig
