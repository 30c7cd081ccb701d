#include "core/runlog/numbers.h"

#include <charconv>
#include <cmath>

namespace edgerig {

std::string formatValue(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::to_chars_result r;
  const float f = static_cast<float>(v);
  if (v == std::trunc(v) && std::fabs(v) < 1e18) {
    r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);  // 1000000, not 1e+06
  } else if (static_cast<double>(f) == v) {
    r = std::to_chars(buf, buf + sizeof buf, f);
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  return std::string(buf, r.ptr);
}

std::string formatTime(double seconds) {
  if (!std::isfinite(seconds)) return formatValue(seconds);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, seconds, std::chars_format::fixed, 3);
  return std::string(buf, r.ptr);
}

std::optional<double> parseDouble(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // from_chars rejects a leading '+', which spreadsheets sometimes write.
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parseInt64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace edgerig
