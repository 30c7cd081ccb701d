// What a run looks like when runs are compared: one line per chart for the run as a whole (lines
// differ by run, not by device), and the per-pixel min/max decimation that keeps ten long runs
// quick to draw.
#pragma once

#include <QString>
#include <QVector>
#include <array>
#include <string>
#include <vector>

#include "core/runlog/run_log.h"
#include "ui/plot_series.h"

namespace edgerig::ui {

struct CompareLine {
  std::string metric;  // what the line is, in the chart's CSV
  std::vector<PlotPoint> points;
  // A second line of the run on the same chart, drawn dashed: the accuracy chart's averaged
  // model (a decentralized run's averaged_model_accuracy). Empty for most runs and charts.
  std::string second_metric;
  std::vector<PlotPoint> second_points;
};

// Per chart, from a run folder's metrics: test accuracy (and the averaged model's, as the second
// line); training loss; samples/s (the run's);
// traffic out of all devices (bytes/s over the last RateWindow::kDefaultWindowS seconds, like
// every plotted rate); bytes sent by all devices so far; busy time of all devices (% over the
// same window); an algorithm metric's chart, its devices' latest values reduced as its
// kMetricCharts row says (MetricChart::Across). Points are in the order of the metrics, which is
// time order.
std::array<CompareLine, kChartCount> compareLines(const std::vector<MetricSample>& metrics);

// A chart's title and unit while runs are compared (the traffic-by-kind chart shows the bytes
// sent so far instead, which the comparison's summary totals).
QString compareChartTitle(Chart c);
QString compareChartUnit(Chart c);

// Per-pixel min/max: points are grouped by floor(x / bin_width) and each group keeps its lowest
// and its highest value, in their order, plus the series' first and last points. x is the
// iteration or the time; values are multiplied by `scale`. Points must be in x order.
void decimateMinMax(const std::vector<PlotPoint>& points, bool by_iteration, double bin_width,
                    double scale, QVector<double>* keys, QVector<double>* values);

}  // namespace edgerig::ui
