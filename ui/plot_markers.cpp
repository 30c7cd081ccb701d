// PlotPanel's markers: an event becomes a dashed line on every chart with a label, events of
// one moment share a line, and the labels in view are laid out so that none covers another.
#include <qcustomplot.h>

#include <QStringList>
#include <algorithm>
#include <cmath>

#include "core/runlog/event_kinds.h"
#include "ui/plot_panel.h"

namespace edgerig::ui {
namespace {

const QMargins kLabelPadding(2, 1, 2, 1);
// Marker labels stay in the top part of a chart, above most of the data.
constexpr double kLabelAreaFraction = 0.45;
const QString kMarkerLayer = QStringLiteral("markers");

QFont markerFont() { return QFont(QFont().family(), 8); }

}  // namespace

void PlotPanel::addEvents(const std::vector<RunEvent>& events) { addRunEvents(events, -1); }

void PlotPanel::addRunEvents(const std::vector<RunEvent>& events, int run) {
  bool any = false;
  for (const auto& e : events) {
    const QString label = markerLabel(e);
    if (label.isEmpty()) continue;
    QString detail =
        e.detail.empty()
            ? label
            : (e.device.empty() ? QString() : QString::fromStdString(e.device) + ": ") +
                  QString::fromStdString(e.detail);
    if (run >= 0 && run < static_cast<int>(overlay_runs_.size())) {
      detail = overlay_runs_[static_cast<size_t>(run)].name + " — " + detail;
    }
    // Events of one moment (a restart, the re-plan and the device's return) share one marker,
    // their labels stacked, instead of lines drawn over each other.
    if (!markers_.empty() && markers_.back().run == run &&
        markers_.back().iteration == static_cast<double>(e.iteration) &&
        e.time_s - markers_.back().time_s < kSameMomentS) {
      Marker& last = markers_.back();
      const bool phase = e.kind == events::kRecoveryPhase;
      if (phase && last.phase_open) {
        // A recovery's phases two to a line ("fetch 0.41 s · commit 0.09 s"): the four of them
        // and the loss, the plan and the recovery still fit the label area.
        setMarkerLabel(last, last.label + QStringLiteral(" · ") + label);
        last.phase_open = false;
      } else if (!last.label.split('\n').contains(label)) {
        setMarkerLabel(last, last.label + '\n' + label);
        last.phase_open = phase;
      }
      last.details += '\n' + detail;
      any = true;
      continue;
    }
    if (static_cast<int>(markers_.size()) >= kMaxMarkers) {
      removeMarker(markers_.front());
      markers_.erase(markers_.begin());
    }
    Marker m;
    m.run = run;
    m.time_s = e.time_s;
    m.iteration = static_cast<double>(e.iteration);
    m.details = detail;
    placeMarker(m);
    setMarkerLabel(m, label);
    m.phase_open = e.kind == events::kRecoveryPhase;
    markers_.push_back(m);
    any = true;
  }
  if (any) scheduleReplot();
}

void PlotPanel::placeMarker(Marker& m) {
  const double x = x_axis_ == XAxis::kIteration ? m.iteration : m.time_s;
  for (int c = 0; c < kChartCount; ++c) {
    QCustomPlot* plot = charts_[static_cast<size_t>(c)];
    // Markers are drawn under the data: a label's box may hide the grid, never a run's line
    // (compared runs' lines and per-iteration lines are on "main", evaluations above it).
    if (!plot->layer(kMarkerLayer)) {
      plot->addLayer(kMarkerLayer, plot->layer(QStringLiteral("main")), QCustomPlot::limBelow);
    }
    auto* line = new QCPItemStraightLine(plot);
    line->setLayer(kMarkerLayer);
    // A compared run's markers take its colour; a single run's are grey.
    const bool of_run = m.run >= 0 && m.run < static_cast<int>(overlay_runs_.size());
    const QColor color =
        of_run ? overlay_runs_[static_cast<size_t>(m.run)].color : QColor(120, 120, 120);
    line->setPen(QPen(color, 1, Qt::DashLine));
    line->point1->setType(QCPItemPosition::ptPlotCoords);
    line->point2->setType(QCPItemPosition::ptPlotCoords);
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
    auto* text = new QCPItemText(plot);
    text->setLayer(kMarkerLayer);
    text->setFont(markerFont());
    text->setColor(of_run ? color.darker(130) : QColor(60, 60, 60));
    text->setBrush(QColor(255, 255, 255, 210));
    text->setPadding(kLabelPadding);
    text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setTextAlignment(Qt::AlignLeft);  // stacked labels read as a list
    text->position->setTypeX(QCPItemPosition::ptPlotCoords);
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(x, 0.02);  // until the layout before the next replot
    text->setClipToAxisRect(true);
    m.lines[static_cast<size_t>(c)] = line;
    m.texts[static_cast<size_t>(c)] = text;
  }
}

void PlotPanel::setMarkerLabel(Marker& m, const QString& label) {
  m.label = label;
  const QRect r = QFontMetrics(markerFont()).boundingRect(QRect(), Qt::AlignLeft, label);
  m.label_size = r.size().grownBy(kLabelPadding);
  for (auto* text : m.texts) text->setText(label);
}

void PlotPanel::layoutMarkerLabels(Chart c) {
  QCustomPlot* plot = chart(c);
  const QRect area = plot->axisRect()->rect();
  if (area.height() <= 0) return;
  const int lowest = area.top() + static_cast<int>(area.height() * kLabelAreaFraction);
  std::vector<QRect> placed;
  // Newest first: the event just injected always shows, and each label takes the highest row
  // where it covers no newer one; the oldest give way when a stretch is crowded.
  for (auto it = markers_.rbegin(); it != markers_.rend(); ++it) {
    Marker& m = *it;
    QCPItemText* text = m.texts[static_cast<size_t>(c)];
    const double x = x_axis_ == XAxis::kIteration ? m.iteration : m.time_s;
    const double px = plot->xAxis->coordToPixel(x);
    if (px < area.left() || px > area.right() || !m.lines[static_cast<size_t>(c)]->visible()) {
      text->setVisible(false);
      continue;
    }
    // Right of its line; at the right edge left of it; on a chart too narrow for either, as
    // far right as it fits (still across its line). Never cut off.
    const int w = m.label_size.width();
    int left = static_cast<int>(px) + 1;
    if (left + w > area.right()) left = static_cast<int>(px) - w;
    if (left < area.left()) left = std::max(area.left(), area.right() - w);
    if (w > area.width()) {
      text->setVisible(false);
      continue;
    }
    QRect box(QPoint(left, area.top() + 2), m.label_size);
    for (bool moved = true; moved && box.bottom() <= lowest;) {
      moved = false;
      for (const QRect& r : placed) {
        if (r.intersects(box)) {
          box.moveTop(r.bottom() + 2);
          moved = true;
        }
      }
    }
    if (box.bottom() > lowest) {
      text->setVisible(false);
      continue;
    }
    placed.push_back(box);
    text->setVisible(true);
    text->position->setCoords(plot->xAxis->pixelToCoord(box.left()),
                              static_cast<double>(box.top() - area.top()) / area.height());
  }
}

QString PlotPanel::markerLabelsNear(Chart c, double pixel_x) const {
  QCustomPlot* plot = chart(c);
  QStringList out;
  for (const auto& m : markers_) {
    if (!m.lines[static_cast<size_t>(c)]->visible()) continue;
    const double x = x_axis_ == XAxis::kIteration ? m.iteration : m.time_s;
    if (std::abs(plot->xAxis->coordToPixel(x) - pixel_x) <= 4) out << m.details;
  }
  return out.join('\n');
}

void PlotPanel::removeMarker(Marker& m) {
  for (int c = 0; c < kChartCount; ++c) {
    charts_[static_cast<size_t>(c)]->removeItem(m.lines[static_cast<size_t>(c)]);
    charts_[static_cast<size_t>(c)]->removeItem(m.texts[static_cast<size_t>(c)]);
  }
}

}  // namespace edgerig::ui
