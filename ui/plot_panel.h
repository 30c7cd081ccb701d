// The live plots: accuracy, loss, throughput, traffic per device and per message kind, busy
// time per device, and the charts of algorithm metrics (kMetricCharts) once they arrive, against
// iteration or wall time. Samples are appended on the GUI thread and
// drawn by one coalescing timer (at most one replot per kReplotIntervalMs, one chart per event-loop
// turn, lines drawn fast when drawing gets expensive); every fault, plan change, switch, pause and
// loss is a labelled vertical marker on every chart. Each chart saves
// as PNG, PDF or CSV. In compare mode (plot_overlay.cpp) the charts overlay whole runs instead,
// one colour per run, decimated to the pixels they cover.
#pragma once

#include <QColor>
#include <QString>
#include <QTimer>
#include <QWidget>
#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "ui/compare_series.h"
#include "ui/plot_series.h"
#include "ui/ui_types.h"

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCheckBox;
class QComboBox;
class QGridLayout;
class QTextStream;

namespace edgerig::ui {

class PlotPanel : public QWidget {
  Q_OBJECT

 public:
  enum class XAxis { kIteration, kWallTime };
  static constexpr int kReplotIntervalMs = 40;  // <= 25 Hz
  // A replot of all charts slower than this switches line antialiasing off until clear().
  static constexpr double kFastDrawingAboveMs = 12;
  // Sliding window per series: memory is flat once reached (8 min of a 10 Hz device metric,
  // 5000 iterations of a per-iteration one); the run folder keeps everything.
  static constexpr size_t kMaxPointsPerSeries = 5000;
  static constexpr int kMaxMarkers = 200;
  // Marker events at the same iteration and this close in time share one marker.
  static constexpr double kSameMomentS = 5.0;

  explicit PlotPanel(QWidget* parent = nullptr);
  ~PlotPanel() override;

  // Device names to colours and legend order (the device's index picks its colour).
  void setDevices(const std::vector<DeviceStatus>& devices);
  void addMetrics(const std::vector<MetricSample>& samples);
  void addEvents(const std::vector<RunEvent>& events);
  // Empties the charts; the sliding window is back to kMaxPointsPerSeries.
  void clear();
  // Points kept per series created from now on (after clear()): a replayed run folder, which
  // is in memory anyway, shows whole instead of its last kMaxPointsPerSeries points.
  void setSeriesCapacity(size_t points) { series_capacity_ = std::max(points, size_t{1}); }

  void setXAxis(XAxis axis);
  XAxis xAxis() const { return x_axis_; }
  void setFollowTail(bool follow);
  bool followTail() const { return follow_; }
  // How much of the tail is shown while following: iterations or seconds per the x axis.
  void setTailSpan(double iterations, double seconds);
  // Centres every chart on a moment (an event clicked in the log); stops following.
  void showAround(double time_s, int64_t iteration);
  // Fits every chart to all its data at the next replot (a replayed run); stops following.
  void showAll();

  // Compare mode: each run's lines (compareLines) in its colour, named by the run in the legends,
  // and its events as markers in its colour; replaces what the panel showed, fitted in view.
  // clear() ends it.
  struct OverlayRun {
    QString name;
    QColor color;
    std::array<CompareLine, kChartCount> lines;
    std::vector<RunEvent> events;
  };
  void showRuns(std::vector<OverlayRun> runs);
  bool comparing() const { return !overlay_runs_.empty(); }
  int overlayRunCount() const { return static_cast<int>(overlay_runs_.size()); }
  // A run's markers shown or hidden (compare mode).
  void setRunMarkersVisible(int run, bool visible);
  bool runMarkersVisible(int run) const;
  int visibleMarkerCount() const;
  // Syncs data and ranges and draws every chart at once (offscreen rendering and tests).
  void replotAllNow();

  // By suffix: .png, .pdf or .csv (the chart's points in the run folder's long format).
  Status saveChart(Chart chart, const QString& path) const;

  QCustomPlot* chart(Chart c) const { return charts_[static_cast<size_t>(c)]; }
  int markerCount() const { return static_cast<int>(markers_.size()); }
  // The events in full of the markers within a few pixels of x on chart c: a line's tooltip.
  QString markerLabelsNear(Chart c, double pixel_x) const;
  int replotCount() const { return replots_; }
  // Time spent in one replot of every chart (syncing the data, ranges, drawing), for the benchmark.
  double lastReplotMs() const { return last_replot_ms_; }
  double meanReplotMs() const { return replots_ > 0 ? total_replot_ms_ / replots_ : 0.0; }
  bool fastDrawing() const { return fast_drawing_; }
  int replotIntervalMs() const { return timer_.interval(); }
  // Charts per row of the grid: 3 when the panel is wide enough, else 2.
  int columnCount() const { return columns_; }
  // Whether chart c is laid out: the gossip charts only once gossip data has arrived, an
  // algorithm metric's chart (kMetricCharts) once its metric has.
  bool isChartShown(Chart c) const { return shown_[static_cast<size_t>(c)]; }
  bool replotPending() const { return timer_.isActive() || drawing_ || replot_again_; }
  // Points held for one series: metric name and device ("" for the run as a whole).
  size_t pointCount(const std::string& metric, const std::string& device) const;

 signals:
  void followTailChanged(bool follow);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  struct Series {
    std::string metric, device;
    explicit Series(size_t capacity) : buffer(capacity) {}
    Chart chart = Chart::kAccuracy;
    int order = 0;  // of appearance, for the legend
    SeriesBuffer buffer;
    QCPGraph* graph = nullptr;
  };
  struct Marker {
    int run = -1;  // compare mode: the run whose event it is
    double time_s = 0, iteration = 0;
    QString label;
    QSize label_size;         // of the text box, padding included
    QString details;          // the events in full, a line each: the tooltip
    bool phase_open = false;  // its last line holds one recovery phase; the next joins it
    std::array<QCPItemStraightLine*, kChartCount> lines{};
    std::array<QCPItemText*, kChartCount> texts{};
  };
  using SeriesKey = std::tuple<int, std::string, std::string>;
  // Compare mode: one run's line on one chart, all its points, drawn decimated.
  struct OverlayLine {
    int run = 0;
    Chart chart = Chart::kAccuracy;
    std::string metric;
    std::vector<PlotPoint> points;
    QCPGraph* graph = nullptr;
    double bin_width = -1;  // of the data it holds now
  };
  struct OverlayRunState {
    QString name;
    QColor color;
    bool markers = true;
  };

  QCustomPlot* makeChart(Chart c);
  void scheduleReplot();
  // Data synced to the charts, ranges fitted (following, or showAll()).
  void prepareReplot();
  void replotNow();
  void drawNextChart();
  void setFastDrawing(bool fast);
  void syncGraph(Series& s, bool rebuild);
  void sortLegend(Chart c);
  void placeMarker(Marker& m);
  void setMarkerLabel(Marker& m, const QString& label);
  // Places the labels of the markers in view so that none covers another, newest first: each
  // goes in the highest free row next to its line (left of it at the right edge); a label with
  // no room in the top part of the chart is hidden, and its line's tooltip still tells it.
  void layoutMarkerLabels(Chart c);
  void removeMarker(Marker& m);
  // x from the newest point back `span` (all of it for infinity); y to the data in view.
  void fitRanges(double span);
  double xOf(const PlotPoint& p) const;
  QColor seriesColor(const Series& s) const;
  QString seriesName(const Series& s) const;
  void showChartMenu(Chart c, const QPoint& pos);
  void appendSample(const MetricSample& m);
  void layoutCharts(int columns);
  bool chartShown(Chart c) const;
  void addRunEvents(const std::vector<RunEvent>& events, int run);
  // plot_overlay.cpp: the overlay's data for chart c at its current x range; `force` after the
  // x axis changed.
  void syncOverlay(Chart c, bool force);
  void setChartTitles(bool comparing);
  void writeOverlayCsv(Chart c, QTextStream& out) const;

  std::array<QCustomPlot*, kChartCount> charts_{};
  QGridLayout* grid_ = nullptr;
  int columns_ = 0;
  std::array<bool, kChartCount> shown_{};  // laid out in the grid
  std::array<bool, kChartCount>
      metric_seen_{};         // metric charts (and consensus) whose metric arrived
  bool gossip_seen_ = false;  // a consensus distance, a compression ratio or gossip bytes
  QComboBox* axis_box_ = nullptr;
  QCheckBox* follow_box_ = nullptr;
  std::map<SeriesKey, std::unique_ptr<Series>> series_;
  std::vector<Marker> markers_;
  std::vector<OverlayLine> overlay_;
  std::vector<OverlayRunState> overlay_runs_;
  size_t series_capacity_ = kMaxPointsPerSeries;
  std::map<std::string, int> device_index_;
  DerivedMetrics derived_;
  XAxis x_axis_ = XAxis::kIteration;
  bool follow_ = true;
  bool fit_all_ = false;  // showAll() before the next replot
  bool rebuild_ = false;
  double span_iterations_ = 2000, span_seconds_ = 300;
  QTimer timer_;
  int replots_ = 0;
  double last_replot_ms_ = 0, total_replot_ms_ = 0;
  bool fast_drawing_ = false;
  bool drawing_ = false;       // charts are being drawn, one per event-loop turn
  bool replot_again_ = false;  // data arrived while drawing
  int next_chart_ = 0;
  double draw_ms_ = 0;
};

}  // namespace edgerig::ui
