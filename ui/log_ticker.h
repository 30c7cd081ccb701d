// Ticks for a log axis that spans less than about two decades (a loss between 0.2 and 3, round
// times between 5 and 60 ms). QCustomPlot 2.1's log ticker falls back to linear ticks there
// (0.5, 1, 1.5, 2, 2.5, 3), which a log axis squeezes together at its top until their labels
// overlap; this one puts ticks at 1, 2 and 5 times a power of ten, evenly spread on the axis.
// Wider ranges keep QCustomPlot's powers of ten.
#pragma once

#include <qcustomplot.h>

namespace edgerig::ui {

class LogTicker : public QCPAxisTickerLog {
 protected:
  QVector<double> createTickVector(double tick_step, const QCPRange& range) override;
  QVector<double> createSubTickVector(int sub_tick_count, const QVector<double>& ticks) override;

 private:
  bool one_two_five_ = false;  // the last ticks were 1-2-5 ones (no sub-ticks between them)
};

}  // namespace edgerig::ui
