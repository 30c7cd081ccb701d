// PlotPanel's compare mode: whole runs overlaid, one colour per run. Each line keeps all its
// points and hands the chart only a per-pixel min/max of them for the range in view, so ten runs
// of 10,000 iterations replot in milliseconds (bench/ui --compare-runs); a pan reuses the data, a
// zoom decimates again.
#include <qcustomplot.h>

#include <QTextStream>
#include <algorithm>
#include <cmath>

#include "ui/chart_title.h"
#include "ui/plot_panel.h"

namespace edgerig::ui {
namespace {
// The axis rect is only known once a chart has been laid out; before that (a panel rendered
// offscreen, never shown) assume a wide one rather than draw too coarsely.
constexpr int kMinDecimationPixels = 400;
// A zoom by less than this fraction keeps the decimated data: it still has ~2 points per pixel.
constexpr double kRedecimateAbove = 0.25;
}  // namespace

void PlotPanel::showRuns(std::vector<OverlayRun> runs) {
  clear();
  setFollowTail(false);
  for (const auto& r : runs) overlay_runs_.push_back({r.name, r.color, true});
  setChartTitles(/*comparing=*/true);
  for (size_t r = 0; r < runs.size(); ++r) {
    for (int c = 0; c < kChartCount; ++c) {
      const Chart chart_id = static_cast<Chart>(c);
      CompareLine& from = runs[r].lines[static_cast<size_t>(c)];
      auto add = [&](std::string metric, std::vector<PlotPoint> points, const QString& name,
                     Qt::PenStyle style, QCPScatterStyle::ScatterShape scatter) {
        OverlayLine line;
        line.run = static_cast<int>(r);
        line.chart = chart_id;
        line.metric = std::move(metric);
        line.points = std::move(points);
        line.graph = chart(chart_id)->addGraph();
        line.graph->setName(name);
        line.graph->setPen(QPen(runs[r].color, 2.0, style));
        if (scatter != QCPScatterStyle::ssNone) {
          line.graph->setScatterStyle(QCPScatterStyle(scatter, 5));
        }
        overlay_.push_back(std::move(line));
      };
      // Every run on every chart, even without points there: each legend names all the runs.
      add(from.metric, std::move(from.points), runs[r].name, Qt::SolidLine,
          chart_id == Chart::kAccuracy ? QCPScatterStyle::ssDisc : QCPScatterStyle::ssNone);
      // A decentralized run's averaged model beside its devices' own: dashed, hollow points.
      if (!from.second_points.empty()) {
        add(from.second_metric, std::move(from.second_points),
            runs[r].name + QStringLiteral(" avg model"), Qt::DashLine, QCPScatterStyle::ssCircle);
      }
    }
  }
  for (size_t r = 0; r < runs.size(); ++r) addRunEvents(runs[r].events, static_cast<int>(r));
  layoutCharts(columns_);
  rebuild_ = true;
  showAll();
}

void PlotPanel::syncOverlay(Chart c, bool force) {
  QCustomPlot* plot = chart(c);
  const int laid_out = plot->axisRect()->width();
  const int pixels = laid_out > 50 ? laid_out : std::max(plot->width() - 120, kMinDecimationPixels);
  const double bin = plot->xAxis->range().size() / pixels;
  bool changed = false, dense = false;
  for (auto& line : overlay_) {
    if (line.chart != c) continue;
    // A pan keeps the bins (they are anchored at x = 0), so only a zoom decimates again.
    if (force || line.bin_width <= 0 || std::abs(bin / line.bin_width - 1) >= kRedecimateAbove) {
      QVector<double> keys, values;
      decimateMinMax(line.points, x_axis_ == XAxis::kIteration, bin, chartScale(c), &keys, &values);
      line.graph->setData(keys, values, /*alreadySorted=*/true);
      line.bin_width = bin;
      changed = true;
    }
    dense = dense || line.graph->data()->size() >= pixels;
  }
  if (!changed) return;
  // Where lines have a point or more per pixel their min/max strokes fill bands, which
  // antialiasing makes several times slower to draw (bench/ui) and no smoother to look at; a
  // 1 px line takes the raster engine's fast path. Every run's line on a chart looks the same.
  for (auto& line : overlay_) {
    if (line.chart != c) continue;
    line.graph->setAntialiased(!dense);
    QPen pen = line.graph->pen();
    pen.setWidthF(dense ? 1.0 : 2.0);
    line.graph->setPen(pen);
  }
}

void PlotPanel::setChartTitles(bool comparing) {
  for (int i = 0; i < kChartCount; ++i) {
    const Chart c = static_cast<Chart>(i);
    QCustomPlot* plot = chart(c);
    setChartTitle(plot, comparing ? compareChartTitle(c) : chartTitle(c));
    plot->yAxis->setLabel(comparing ? compareChartUnit(c) : chartUnit(c));
  }
}

void PlotPanel::setRunMarkersVisible(int run, bool visible) {
  if (run < 0 || run >= overlayRunCount()) return;
  overlay_runs_[static_cast<size_t>(run)].markers = visible;
  for (auto& m : markers_) {
    if (m.run != run) continue;
    for (auto* line : m.lines) line->setVisible(visible);
    if (!visible) {
      for (auto* text : m.texts) text->setVisible(false);
    }
  }
  scheduleReplot();
}

bool PlotPanel::runMarkersVisible(int run) const {
  return run >= 0 && run < overlayRunCount() && overlay_runs_[static_cast<size_t>(run)].markers;
}

int PlotPanel::visibleMarkerCount() const {
  return static_cast<int>(std::count_if(markers_.begin(), markers_.end(), [](const Marker& m) {
    return m.lines[0] && m.lines[0]->visible();
  }));
}

void PlotPanel::replotAllNow() {
  timer_.stop();
  prepareReplot();
  for (auto* plot : charts_) plot->replot(QCustomPlot::rpImmediateRefresh);
}

void PlotPanel::writeOverlayCsv(Chart c, QTextStream& out) const {
  // The run's name stands where a device's would: one series per run.
  for (const auto& line : overlay_) {
    if (line.chart != c) continue;
    const QString run = overlay_runs_[static_cast<size_t>(line.run)].name;
    for (const auto& p : line.points) {
      out << QString::number(p.time_s, 'g', 10) << ',' << static_cast<qint64>(p.iteration) << ','
          << run << ',' << QString::fromStdString(line.metric) << ','
          << QString::number(p.value, 'g', 10) << '\n';
    }
  }
}

}  // namespace edgerig::ui
