#include "ui/format.h"

#include <cmath>

namespace edgerig::ui {

QString formatBytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (std::abs(bytes) >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  return u == 0 ? QStringLiteral("%1 B").arg(static_cast<qint64>(bytes))
                : QStringLiteral("%1 %2").arg(bytes, 0, 'f', bytes < 10 ? 2 : 1).arg(kUnits[u]);
}

QString formatRate(double bytes_per_s) { return formatBytes(bytes_per_s) + "/s"; }

QString formatDuration(double seconds) {
  const auto total = static_cast<qint64>(std::max(0.0, seconds));
  const qint64 h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0) {
    return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QChar('0')).arg(s, 2, 10, QChar('0'));
  }
  return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QChar('0'));
}

QString formatCount(double value) {
  if (std::abs(value) >= 10000) return QStringLiteral("%1k").arg(value / 1000, 0, 'f', 1);
  if (std::abs(value) >= 100) return QString::number(static_cast<qint64>(std::lround(value)));
  return QString::number(value, 'f', 1);
}

}  // namespace edgerig::ui
