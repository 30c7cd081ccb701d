#include "ui/plot_panel.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QScrollArea>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <limits>

#include "ui/chart_title.h"
#include "ui/log_ticker.h"
#include "ui/palette.h"

namespace edgerig::ui {

PlotPanel::PlotPanel(QWidget* parent) : QWidget(parent) {
  auto* top = new QHBoxLayout;
  top->setContentsMargins(4, 2, 4, 2);
  top->addWidget(new QLabel(tr("X axis:"), this));
  axis_box_ = new QComboBox(this);
  axis_box_->setObjectName("plotXAxis");
  axis_box_->addItems({tr("Iteration"), tr("Wall time (s)")});
  top->addWidget(axis_box_);
  follow_box_ = new QCheckBox(tr("Follow the tail"), this);
  follow_box_->setObjectName("plotFollowTail");
  follow_box_->setChecked(true);
  follow_box_->setToolTip(
      tr("Scroll with the newest data. Dragging or zooming a chart turns it "
         "off; right-click a chart to save it."));
  top->addWidget(follow_box_);
  top->addStretch(1);

  // The charts fill the panel; when an algorithm brings more rows than fit (edgegossip's five),
  // they scroll instead of making the window taller than the screen.
  auto* charts = new QWidget;
  charts->setObjectName("plotCharts");
  grid_ = new QGridLayout(charts);
  grid_->setContentsMargins(0, 0, 0, 0);
  grid_->setSpacing(2);
  for (int c = 0; c < kChartCount; ++c) {
    charts_[static_cast<size_t>(c)] = makeChart(static_cast<Chart>(c));
  }
  layoutCharts(2);
  auto* scroll = new QScrollArea(this);
  scroll->setObjectName("plotScroll");
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setWidget(charts);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addLayout(top);
  layout->addWidget(scroll, 1);

  timer_.setSingleShot(true);
  timer_.setInterval(kReplotIntervalMs);
  connect(&timer_, &QTimer::timeout, this, &PlotPanel::replotNow);
  connect(axis_box_, &QComboBox::currentIndexChanged, this,
          [this](int i) { setXAxis(i == 0 ? XAxis::kIteration : XAxis::kWallTime); });
  connect(follow_box_, &QCheckBox::toggled, this, &PlotPanel::setFollowTail);
}

PlotPanel::~PlotPanel() = default;

bool PlotPanel::chartShown(Chart c) const {
  // An algorithm metric's chart (respipe's routed micro-batches, sparse-push's compression ratio,
  // edgegossip's local batches, iteration times and exchange period) appears once its metric
  // arrives, live or from a compared run.
  if (metricChart(c) != nullptr) {
    if (metric_seen_[static_cast<size_t>(c)]) return true;
    for (const auto& line : overlay_) {
      if (line.chart == c && !line.points.empty()) return true;
    }
    return false;
  }
  // The consensus distance appears once one arrives (allreduce sends gossip bytes but its models
  // never differ, so it measures none: an empty chart would only puzzle).
  if (c == Chart::kConsensus) {
    if (metric_seen_[static_cast<size_t>(c)]) return true;
    for (const auto& line : overlay_) {
      if (line.chart == c && !line.points.empty()) return true;
    }
    return false;
  }
  // Bytes per iteration appears once a gossip algorithm's consensus distance, compression ratio
  // or gossip bytes arrive: other runs keep the six charts at their size.
  if (c != Chart::kBytesPerIteration) return true;
  if (gossip_seen_) return true;
  for (const auto& line : overlay_) {
    if ((line.chart == Chart::kConsensus || line.chart == Chart::kCompression) &&
        !line.points.empty()) {
      return true;
    }
  }
  return false;
}

void PlotPanel::layoutCharts(int columns) {
  if (columns <= 0) return;
  std::array<bool, kChartCount> shown{};
  for (int c = 0; c < kChartCount; ++c)
    shown[static_cast<size_t>(c)] = chartShown(static_cast<Chart>(c));
  if (columns == columns_ && shown == shown_) return;
  columns_ = columns;
  shown_ = shown;
  for (auto* plot : charts_) grid_->removeWidget(plot);
  int cell = 0;
  for (int c = 0; c < kChartCount; ++c) {
    QCustomPlot* plot = charts_[static_cast<size_t>(c)];
    plot->setVisible(shown[static_cast<size_t>(c)]);
    if (!shown[static_cast<size_t>(c)]) continue;
    grid_->addWidget(plot, cell / columns, cell % columns);
    ++cell;
  }
  // Stretch only the rows and columns in use, so a switch leaves no empty band behind.
  const int rows = (cell + columns - 1) / columns;
  for (int i = 0; i < 3; ++i) grid_->setColumnStretch(i, i < columns ? 1 : 0);
  for (int i = 0; i <= (kChartCount + 1) / 2; ++i) grid_->setRowStretch(i, i < rows ? 1 : 0);
}

void PlotPanel::resizeEvent(QResizeEvent* event) {
  // Three columns once each chart keeps ~380 px (axis, plot and legend); two below that.
  layoutCharts(width() >= 3 * 380 ? 3 : 2);
  QWidget::resizeEvent(event);
}

QCustomPlot* PlotPanel::makeChart(Chart c) {
  auto* plot = new QCustomPlot(this);
  plot->setObjectName(QStringLiteral("chart%1").arg(static_cast<int>(c)));
  plot->setMinimumSize(260, 180);
  plot->setNoAntialiasingOnDrag(true);
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(
      0, 0, new QCPTextElement(plot, QString(), QFont(font().family(), 10, QFont::Bold)));
  setChartTitle(plot, chartTitle(c));
  connect(plot, &QCustomPlot::beforeReplot, plot, [plot] { fitChartTitle(plot); });
  plot->xAxis->setLabel(tr("iteration"));
  plot->yAxis->setLabel(chartUnit(c));
  if (c == Chart::kAccuracy) plot->yAxis->setRange(0, 1);
  if (c == Chart::kBusy) plot->yAxis->setRange(0, 104);  // headroom so 100 % stays visible
  if (c == Chart::kThroughput) plot->yAxis->setNumberFormat("gb");  // 1.2·10^6, not 1.2e+06
  plot->legend->setVisible(true);
  plot->legend->setFont(QFont(font().family(), 8));
  plot->legend->setBorderPen(Qt::NoPen);
  // The legend gets its own column right of the axis rect, so it never covers the newest data.
  auto* legend_cell = new QCPLayoutGrid;
  plot->plotLayout()->addElement(1, 1, legend_cell);
  plot->axisRect()->insetLayout()->take(plot->legend);
  legend_cell->addElement(0, 0, plot->legend);
  legend_cell->addElement(1, 0, new QCPLayoutElement(plot));  // keeps the entries at the top
  legend_cell->setRowStretchFactor(0, 0.001);
  legend_cell->setMargins(QMargins(0, 8, 4, 0));
  plot->plotLayout()->setColumnStretchFactor(1, 0.001);
  plot->plotLayout()->setRowSpacing(0);
  const MetricChart* mc = metricChart(c);
  if (c == Chart::kLoss || (mc != nullptr && mc->log)) {
    // Loss spans orders of magnitude (and a diverging run many more): log scale.
    plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot->yAxis->setTicker(QSharedPointer<LogTicker>(new LogTicker));
    plot->yAxis->setNumberFormat("gb");
    plot->yAxis->setRange(c == Chart::kLoss ? 0.01 : 0.1, 10);
  }
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot->axisRect()->setRangeDrag(Qt::Horizontal);
  plot->axisRect()->setRangeZoom(Qt::Horizontal);
  // A person who drags or zooms wants to look at something: stop scrolling under them.
  connect(plot, &QCustomPlot::mousePress, this, [this] { setFollowTail(false); });
  connect(plot, &QCustomPlot::mouseWheel, this, [this] { setFollowTail(false); });
  // Labels are laid out for the ranges about to be drawn, whoever asked for the replot (a
  // data update, a drag, a zoom).
  connect(plot, &QCustomPlot::afterLayout, this, [this, c] {
    // Compared runs are decimated for the pixels of the range in view: a zoom or a resize
    // decimates again (before this replot draws).
    if (comparing()) syncOverlay(c, /*force=*/false);
    layoutMarkerLabels(c);
  });
  connect(plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this, c] {
    if (comparing()) syncOverlay(c, /*force=*/false);
  });
  connect(plot, &QCustomPlot::mouseMove, this, [this, c, plot](QMouseEvent* event) {
    const QString labels = markerLabelsNear(c, event->position().x());
    if (labels.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(event->globalPosition().toPoint(), labels, plot);
    }
  });
  plot->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(plot, &QWidget::customContextMenuRequested, this,
          [this, c](const QPoint& pos) { showChartMenu(c, pos); });
  return plot;
}

void PlotPanel::setDevices(const std::vector<DeviceStatus>& devices) {
  // Called on every device update (~4 Hz): the legends are re-sorted only when an index moves.
  bool moved = false;
  for (const auto& d : devices) {
    auto [it, added] = device_index_.try_emplace(d.name, d.index);
    if (!added && it->second == d.index) continue;
    it->second = d.index;
    moved = true;
  }
  if (!moved) return;
  for (int c = 0; c < kChartCount; ++c) sortLegend(static_cast<Chart>(c));
}

void PlotPanel::addMetrics(const std::vector<MetricSample>& samples) {
  size_t appended = 0;
  std::vector<MetricSample> derived;
  for (const auto& m : samples) {
    derived.clear();
    derived_.add(m, &derived);
    for (const auto& d : derived) appendSample(d);
    appended += derived.size();
    if (chartOf(m) < 0) continue;
    appendSample(m);
    ++appended;
  }
  if (appended > 0) scheduleReplot();
}

void PlotPanel::appendSample(const MetricSample& m) {
  const int c = chartOf(m);
  auto& s = series_[SeriesKey{c, m.metric, m.device}];
  if (!s) {
    s = std::make_unique<Series>(series_capacity_);
    s->order = static_cast<int>(series_.size());
    s->chart = static_cast<Chart>(c);
    s->metric = m.metric;
    s->device = m.device;
    if (!m.device.empty() && !device_index_.count(m.device)) {
      device_index_[m.device] = static_cast<int>(device_index_.size());
    }
  }
  if (!gossip_seen_ && (s->chart == Chart::kConsensus || s->chart == Chart::kCompression ||
                        (m.metric == kindPerIterationMetric("gossip") && m.value > 0))) {
    gossip_seen_ = true;
    layoutCharts(columns_);
  }
  if (!metric_seen_[static_cast<size_t>(c)] &&
      (metricChart(s->chart) != nullptr || s->chart == Chart::kConsensus)) {
    metric_seen_[static_cast<size_t>(c)] = true;
    layoutCharts(columns_);
  }
  s->buffer.append({m.time_s, static_cast<double>(m.iteration), m.value});
}

void PlotPanel::clear() {
  for (auto& m : markers_) removeMarker(m);
  markers_.clear();
  for (auto* plot : charts_) plot->clearGraphs();
  series_.clear();
  overlay_.clear();
  if (!overlay_runs_.empty()) setChartTitles(/*comparing=*/false);
  overlay_runs_.clear();
  series_capacity_ = kMaxPointsPerSeries;
  device_index_.clear();
  derived_.clear();
  gossip_seen_ = false;
  metric_seen_ = {};
  layoutCharts(columns_);
  setFastDrawing(false);
  timer_.setInterval(kReplotIntervalMs);
  scheduleReplot();
}

void PlotPanel::setXAxis(XAxis axis) {
  if (axis == x_axis_) return;
  x_axis_ = axis;
  axis_box_->setCurrentIndex(axis == XAxis::kIteration ? 0 : 1);
  for (auto* plot : charts_) {
    plot->xAxis->setLabel(axis == XAxis::kIteration ? tr("iteration") : tr("time (s)"));
  }
  for (auto& m : markers_) {
    const double x = axis == XAxis::kIteration ? m.iteration : m.time_s;
    for (int c = 0; c < kChartCount; ++c) {
      m.lines[static_cast<size_t>(c)]->point1->setCoords(x, 0);
      m.lines[static_cast<size_t>(c)]->point2->setCoords(x, 1);
      auto* pos = m.texts[static_cast<size_t>(c)]->position;
      pos->setCoords(x, pos->coords().y());
    }
  }
  rebuild_ = true;
  // A range in iterations means nothing in seconds: a chart not following its tail shows all.
  if (!follow_) fit_all_ = true;
  scheduleReplot();
}

void PlotPanel::setFollowTail(bool follow) {
  if (follow == follow_) return;
  follow_ = follow;
  follow_box_->setChecked(follow);
  emit followTailChanged(follow);
  if (follow) scheduleReplot();
}

void PlotPanel::setTailSpan(double iterations, double seconds) {
  span_iterations_ = iterations;
  span_seconds_ = seconds;
  scheduleReplot();
}

void PlotPanel::showAround(double time_s, int64_t iteration) {
  setFollowTail(false);
  const double x = x_axis_ == XAxis::kIteration ? static_cast<double>(iteration) : time_s;
  const double half = (x_axis_ == XAxis::kIteration ? span_iterations_ : span_seconds_) / 8;
  for (auto* plot : charts_) plot->xAxis->setRange(x - half, x + half);
  scheduleReplot();
}

void PlotPanel::showAll() {
  setFollowTail(false);
  fit_all_ = true;
  scheduleReplot();
}

void PlotPanel::scheduleReplot() {
  if (drawing_) {
    replot_again_ = true;  // after the charts being drawn now
  } else if (!timer_.isActive()) {
    timer_.start();
  }
}

double PlotPanel::xOf(const PlotPoint& p) const {
  return x_axis_ == XAxis::kIteration ? p.iteration : p.time_s;
}

QColor PlotPanel::seriesColor(const Series& s) const {
  if (s.device.empty()) return runSeriesColor(s.metric);
  auto it = device_index_.find(s.device);
  return deviceColor(it == device_index_.end() ? -1 : it->second);
}

QString PlotPanel::seriesName(const Series& s) const {
  return s.device.empty() ? runSeriesName(s.metric) : QString::fromStdString(s.device);
}

void PlotPanel::syncGraph(Series& s, bool rebuild) {
  if (!s.graph) {
    QCustomPlot* plot = chart(s.chart);
    s.graph = plot->addGraph();
    s.graph->setName(seriesName(s));
    const bool sparse = s.metric == "test_accuracy" || s.metric == "test_loss" ||
                        s.metric == "averaged_model_accuracy";
    s.graph->setPen(QPen(seriesColor(s), s.device.empty() ? 2.0 : 1.5));
    if (sparse) {
      s.graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
      // Evaluations are a point every evalEvery iterations: drawn above the per-iteration lines
      // (a device's every batch), which would otherwise hide them.
      if (!plot->layer(QStringLiteral("evaluations"))) {
        plot->addLayer(QStringLiteral("evaluations"), plot->layer(QStringLiteral("main")));
      }
      s.graph->setLayer(QStringLiteral("evaluations"));
    }
    // A value that holds until the next (a batch size, a period) is drawn as steps.
    if (const MetricChart* mc = metricChart(s.chart); mc && mc->steps) {
      s.graph->setLineStyle(QCPGraph::lsStepLeft);
    }
    s.graph->setAdaptiveSampling(true);
    sortLegend(s.chart);
    rebuild = true;
  }
  const auto& pts = s.buffer.points();
  if (rebuild || s.buffer.trimmedSinceTake()) {
    QVector<double> keys, values;
    keys.reserve(static_cast<int>(pts.size()));
    values.reserve(static_cast<int>(pts.size()));
    for (const auto& p : pts) {
      keys.push_back(xOf(p));
      values.push_back(p.value * chartScale(s.chart));
    }
    s.graph->setData(keys, values, /*alreadySorted=*/false);
  } else if (s.buffer.pendingCount() > 0) {
    QVector<QCPGraphData> fresh;
    fresh.reserve(static_cast<int>(s.buffer.pendingCount()));
    for (size_t i = pts.size() - s.buffer.pendingCount(); i < pts.size(); ++i) {
      fresh.push_back(QCPGraphData(xOf(pts[i]), pts[i].value * chartScale(s.chart)));
    }
    s.graph->data()->add(fresh, /*alreadySorted=*/false);
  }
  s.buffer.markTaken();
}

void PlotPanel::sortLegend(Chart c) {
  // Devices in index order (their colours' order), whichever reported first; then the run's
  // own series: message kinds in kMessageKinds order, the others as they appeared.
  std::vector<const Series*> in_chart;
  for (const auto& [key, s] : series_) {
    if (s->chart == c && s->graph) in_chart.push_back(s.get());
  }
  auto rank = [this](const Series* s) {
    if (s->device.empty()) {
      for (size_t k = 0; k < kMessageKinds.size(); ++k) {
        if (s->metric == kindRateMetric(kMessageKinds[k])) return std::tuple(2, int(k), 0);
      }
      return std::tuple(2, int(kMessageKinds.size()), s->order);
    }
    auto it = device_index_.find(s->device);
    return it == device_index_.end() ? std::tuple(1, 0, s->order) : std::tuple(0, it->second, 0);
  };
  std::sort(in_chart.begin(), in_chart.end(),
            [&](const Series* a, const Series* b) { return rank(a) < rank(b); });
  for (const Series* s : in_chart) s->graph->removeFromLegend();
  for (const Series* s : in_chart) s->graph->addToLegend();
}

void PlotPanel::prepareReplot() {
  for (auto& [key, s] : series_) syncGraph(*s, rebuild_);
  if (comparing()) {
    for (int c = 0; c < kChartCount; ++c) syncOverlay(static_cast<Chart>(c), rebuild_);
  }
  rebuild_ = false;
  if (follow_) {
    fitRanges(x_axis_ == XAxis::kIteration ? span_iterations_ : span_seconds_);
  } else if (fit_all_) {
    fitRanges(std::numeric_limits<double>::infinity());
  }
  fit_all_ = false;
}

void PlotPanel::replotNow() {
  QElapsedTimer clock;
  clock.start();
  prepareReplot();
  // One chart per event-loop turn: the loop waits behind one chart's drawing at most, never
  // behind all of them (with 32 devices a whole panel is ~20 ms, a chart ~4 ms).
  drawing_ = true;
  next_chart_ = 0;
  draw_ms_ = static_cast<double>(clock.nsecsElapsed()) / 1e6;
  QMetaObject::invokeMethod(this, &PlotPanel::drawNextChart, Qt::QueuedConnection);
}

void PlotPanel::drawNextChart() {
  QElapsedTimer clock;
  clock.start();
  charts_[static_cast<size_t>(next_chart_)]->replot(QCustomPlot::rpQueuedRefresh);
  draw_ms_ += static_cast<double>(clock.nsecsElapsed()) / 1e6;
  if (++next_chart_ < kChartCount) {
    QMetaObject::invokeMethod(this, &PlotPanel::drawNextChart, Qt::QueuedConnection);
    return;
  }
  drawing_ = false;
  ++replots_;
  last_replot_ms_ = draw_ms_;
  total_replot_ms_ += last_replot_ms_;
  // Antialiased line stroking is most of a replot's cost (bench/ui: 32 devices at 10 Hz took
  // ~15x longer with it). Smooth lines while drawing is cheap; once a replot gets expensive,
  // draw lines fast for the rest of the run. The event loop must stay responsive either way.
  if (!fast_drawing_ && last_replot_ms_ > kFastDrawingAboveMs) setFastDrawing(true);
  // Never replot more often than twice what a replot costs: the rest is the event loop's.
  timer_.setInterval(std::clamp(static_cast<int>(2 * last_replot_ms_), kReplotIntervalMs, 250));
  if (replot_again_) {
    replot_again_ = false;
    timer_.start();
  }
}

void PlotPanel::setFastDrawing(bool fast) {
  fast_drawing_ = fast;
  for (auto* plot : charts_) {
    plot->setNotAntialiasedElements(fast ? QCP::aePlottables : QCP::aeNone);
    plot->setPlottingHint(QCP::phFastPolylines, fast);
  }
}

void PlotPanel::fitRanges(double span) {
  for (int c = 0; c < kChartCount; ++c) {
    QCustomPlot* plot = charts_[static_cast<size_t>(c)];
    double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
    for (const auto& [key, s] : series_) {
      if (static_cast<int>(s->chart) != c || s->buffer.points().empty()) continue;
      lo = std::min(lo, xOf(s->buffer.points().front()));
      hi = std::max(hi, xOf(s->buffer.points().back()));
    }
    for (const auto& line : overlay_) {
      if (static_cast<int>(line.chart) != c || line.points.empty()) continue;
      lo = std::min(lo, xOf(line.points.front()));
      hi = std::max(hi, xOf(line.points.back()));
    }
    if (lo > hi) continue;
    if (comparing()) lo = std::min(lo, 0.0);  // runs compared from their starts
    lo = std::max(lo, hi - span);
    if (hi - lo < 1e-9) hi = lo + 1;
    plot->xAxis->setRange(lo, hi + (hi - lo) * 0.02);
    // Accuracy stays on [0, 1] and busy time on [0, 100] %: a fixed scale compares over time.
    if (c == static_cast<int>(Chart::kAccuracy) || c == static_cast<int>(Chart::kBusy)) continue;
    // Gathered before it is set: QCPAxis ignores an empty range, which a flat first series is.
    bool first = true;
    QCPRange y;
    for (int g = 0; g < plot->graphCount(); ++g) {
      bool found = false;
      QCPRange r = plot->graph(g)->getValueRange(found, QCP::sdBoth, plot->xAxis->range());
      if (!found) continue;
      if (first) {
        y = r;
        first = false;
      } else {
        y.expand(r);
      }
    }
    if (first) continue;
    if (plot->yAxis->scaleType() == QCPAxis::stLogarithmic) {
      plot->yAxis->setRange(std::max(1e-6, y.lower / 1.5), std::max(1e-5, y.upper * 1.5));
    } else {
      // Room above the highest point, 8 % of the axis shown (from 0 or below): a nearly flat
      // series far from 0 (a compression ratio of ~50) is not drawn on the chart's top frame,
      // and one that stayed 0 (nothing routed) gets 0 to 1, not 0 to 1·10^-9.
      const double lower = std::min(0.0, y.lower);
      const double extent = y.upper - lower;
      const double pad = extent > 0 ? extent * 0.08 : std::max(1.0, std::abs(y.upper) * 0.08);
      const double upper = y.upper + pad;
      plot->yAxis->setRange(lower, upper > lower ? upper : lower + 1);
    }
  }
}

size_t PlotPanel::pointCount(const std::string& metric, const std::string& device) const {
  size_t n = 0;
  for (const auto& [key, s] : series_) {
    if (s->metric == metric && s->device == device) n += s->buffer.points().size();
  }
  return n;
}

Status PlotPanel::saveChart(Chart c, const QString& path) const {
  QCustomPlot* plot = chart(c);
  const QString suffix = QFileInfo(path).suffix().toLower();
  bool ok = false;
  if (suffix == "png") {
    ok = plot->savePng(path, std::max(plot->width(), 800), std::max(plot->height(), 500));
  } else if (suffix == "pdf") {
    ok = plot->savePdf(path, std::max(plot->width(), 800), std::max(plot->height(), 500));
  } else if (suffix == "csv") {
    QFile f(path);
    if (f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
      QTextStream out(&f);
      out << kMetricsHeader << '\n';
      for (const auto& [key, s] : series_) {
        if (s->chart != c) continue;
        for (const auto& p : s->buffer.points()) {
          out << QString::number(p.time_s, 'g', 10) << ',' << static_cast<qint64>(p.iteration)
              << ',' << QString::fromStdString(s->device) << ','
              << QString::fromStdString(s->metric) << ',' << QString::number(p.value, 'g', 10)
              << '\n';
        }
      }
      writeOverlayCsv(c, out);
      out.flush();
      ok = out.status() == QTextStream::Ok && f.error() == QFile::NoError;
    }
  } else {
    return invalidArgument("cannot save the chart as '" + path.toStdString() +
                           "': choose a .png, .pdf or .csv file name");
  }
  if (!ok) {
    return unavailable("could not write the chart to '" + path.toStdString() +
                       "': check that the folder exists and is writable");
  }
  return Status::ok();
}

void PlotPanel::showChartMenu(Chart c, const QPoint& pos) {
  QMenu menu(this);
  const QString title = chartTitle(c);
  auto save = [this, c, title](const QString& filter, const QString& suffix) {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save %1").arg(title), title.section(' ', 0, 0).toLower() + suffix, filter);
    if (path.isEmpty()) return;
    if (auto st = saveChart(c, path); !st) {
      QMessageBox::warning(this, tr("Save chart"), QString::fromStdString(st.message()));
    }
  };
  menu.addAction(tr("Save as PNG…"), this, [save] { save(tr("PNG image (*.png)"), ".png"); });
  menu.addAction(tr("Save as PDF…"), this, [save] { save(tr("PDF (*.pdf)"), ".pdf"); });
  menu.addAction(tr("Save data as CSV…"), this, [save] { save(tr("CSV (*.csv)"), ".csv"); });
  menu.addSeparator();
  menu.addAction(tr("Follow the tail"), this, [this] { setFollowTail(true); });
  menu.exec(chart(c)->mapToGlobal(pos));
}

}  // namespace edgerig::ui
