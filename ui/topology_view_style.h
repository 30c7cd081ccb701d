// What the topology view's two halves share: the nominal sizes of a node and its cell, an
// edge's pen width for its traffic and an edge's rate label. Internal to the view.
#pragma once

#include <QObject>
#include <QString>
#include <algorithm>
#include <cmath>

#include "ui/format.h"

namespace edgerig::ui::topology {

// Nominal sizes at scale 1; a cell is a node plus room for the edge label beside it.
constexpr double kNodeW = 110;
constexpr double kNodeH = 50;
constexpr double kGapW = 84;  // fits "→ 43.6 MB/s"
constexpr double kGapH = 30;
constexpr double kMargin = 8;
// Edge pen width: 1 px at 1 kB/s or less, 10 px at 1 GB/s, log-linear between.
constexpr double kMinWidth = 1, kMaxWidth = 10;

inline double widthFor(double bytes_per_s) {
  const double decades = std::log10(std::max(bytes_per_s, 1.0) / 1e3);
  return std::clamp(kMinWidth + (kMaxWidth - kMinWidth) * decades / 6.0, kMinWidth, kMaxWidth);
}

inline QString rateLabel(double forward, double backward, const QString& fwd_arrow,
                         const QString& back_arrow, const QString& separator) {
  if (forward <= 0 && backward <= 0) return QObject::tr("idle");
  return QStringLiteral("%1 %2%3%4 %5")
      .arg(fwd_arrow, formatRate(forward), separator, back_arrow, formatRate(backward));
}

}  // namespace edgerig::ui::topology
