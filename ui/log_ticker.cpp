#include "ui/log_ticker.h"

#include <cmath>

namespace edgerig::ui {
namespace {
// Below this many decades QCustomPlot's log ticker would give linear ticks.
constexpr double kOneTwoFiveBelowDecades = 1.6;
}  // namespace

QVector<double> LogTicker::createTickVector(double tick_step, const QCPRange& range) {
  one_two_five_ = false;
  if (!(range.lower > 0) || !(range.upper > range.lower) ||
      std::log10(range.upper / range.lower) >= kOneTwoFiveBelowDecades) {
    return QCPAxisTickerLog::createTickVector(tick_step, range);
  }
  QVector<double> ticks;
  const int first = static_cast<int>(std::floor(std::log10(range.lower)));
  const int last = static_cast<int>(std::ceil(std::log10(range.upper)));
  for (int e = first; e <= last; ++e) {
    for (const double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      if (v >= range.lower && v <= range.upper) ticks << v;
    }
  }
  // Too narrow for two of them (between 1.1 and 1.9, say): there the axis is nearly linear, and
  // linear ticks are what reads best.
  if (ticks.size() < 2) return QCPAxisTicker::createTickVector(tick_step, range);
  one_two_five_ = true;
  return ticks;
}

QVector<double> LogTicker::createSubTickVector(int sub_tick_count, const QVector<double>& ticks) {
  if (one_two_five_) return {};
  return QCPAxisTickerLog::createSubTickVector(sub_tick_count, ticks);
}

}  // namespace edgerig::ui
