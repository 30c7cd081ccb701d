#include "ui/compare_xy.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QImage>
#include <QPageSize>
#include <QPdfWriter>
#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "ui/log_ticker.h"
#include "ui/offscreen_app.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {

constexpr int kWidth = 1100, kHeight = 620;

Status cannotWrite(const std::string& path) {
  return unavailable("cannot write " + path + ": check the folder exists and is writable");
}

// The plot, laid out for kWidth x kHeight.
void build(QCustomPlot& plot, const Curve& curve, const QString& title) {
  plot.resize(kWidth, kHeight);
  plot.plotLayout()->insertRow(0);
  auto* heading =
      new QCPTextElement(&plot, title, QFont(QApplication::font().family(), 12, QFont::Bold));
  plot.plotLayout()->addElement(0, 0, heading);
  plot.xAxis->setLabel(QString::fromStdString(curve.x_column));
  plot.yAxis->setLabel(QString::fromStdString(curve.y_column));
  plot.legend->setVisible(true);
  plot.legend->setFont(QFont(QApplication::font().family(), 9));
  // The legend right of the chart, so that it hides no point.
  plot.axisRect()->insetLayout()->take(plot.legend);
  auto* side = new QCPLayoutGrid;
  plot.plotLayout()->addElement(1, 1, side);
  side->addElement(0, 0, plot.legend);
  side->addElement(1, 0, new QCPLayoutElement(&plot));  // pushes the legend to the top
  side->setRowStretchFactor(1, 100);
  side->setMargins(QMargins(0, 0, 10, 0));
  plot.plotLayout()->setColumnStretchFactor(1, 0.001);
  // Groups in the order they first appear; each group's points joined in the order of x.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CurvePoint*>> groups;
  for (const auto& p : curve.points) {
    if (!groups.count(p.group)) order.push_back(p.group);
    groups[p.group].push_back(&p);
  }
  QFont label_font(QApplication::font().family(), 8);
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  bool first = true;
  for (size_t g = 0; g < order.size(); ++g) {
    auto points = groups[order[g]];
    std::stable_sort(points.begin(), points.end(),
                     [](const CurvePoint* a, const CurvePoint* b) { return a->x < b->x; });
    QCPGraph* graph = plot.addGraph();
    const QColor color = runColor(static_cast<int>(g));
    graph->setPen(QPen(color, 1.5));
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 8));
    graph->setName(QString::fromStdString(order[g].empty() ? "runs" : order[g]));
    for (const CurvePoint* p : points) {
      graph->addData(p->x, p->y);
      auto* text = new QCPItemText(&plot);
      text->position->setCoords(p->x, p->y);
      text->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
      text->setPadding(QMargins(6, 0, 0, 2));
      text->setFont(label_font);
      text->setColor(color.darker(130));
      text->setText(QString::fromStdString(p->label.empty() ? p->run : p->label));
      x_min = first ? p->x : std::min(x_min, p->x);
      x_max = first ? p->x : std::max(x_max, p->x);
      y_min = first ? p->y : std::min(y_min, p->y);
      y_max = first ? p->y : std::max(y_max, p->y);
      first = false;
    }
  }
  // Room for the labels right and above; zero kept in view when the values are positive. An x
  // spanning a factor of 20 or more (a sweep of T = 1, 10, 50, say) is drawn on a log scale.
  const double dx = std::max(1e-9, x_max - x_min), dy = std::max(1e-9, y_max - y_min);
  if (x_min > 0 && x_max / x_min >= 20) {
    plot.xAxis->setScaleType(QCPAxis::stLogarithmic);
    plot.xAxis->setTicker(QSharedPointer<LogTicker>(new LogTicker));
    plot.xAxis->setLabel(plot.xAxis->label() + " (log scale)");
    plot.xAxis->setRange(x_min / 1.5, x_max * 4);
  } else {
    plot.xAxis->setRange(std::min(0.0, x_min - 0.05 * dx), x_max + 0.25 * dx);
  }
  plot.yAxis->setRange(std::min(0.0, y_min - 0.05 * dy), y_max + 0.12 * dy);
}

}  // namespace

Status renderCurve(const Curve& curve, const std::string& title, const std::string& png_path,
                   const std::string& pdf_path) {
  std::unique_ptr<QApplication> app;
  if (auto st = ensureWidgetsApp(app, "renderCurve"); !st) return st;
  if (curve.points.empty()) {
    return invalidArgument("--xy " + curve.x_column + "," + curve.y_column +
                           ": no run has both values, so there is nothing to draw");
  }
  QCustomPlot plot;
  build(plot, curve, QString::fromStdString(title));
  if (!plot.savePng(QString::fromStdString(png_path), kWidth, kHeight)) {
    return cannotWrite(png_path);
  }
  if (!plot.savePdf(QString::fromStdString(pdf_path), kWidth, kHeight)) {
    return cannotWrite(pdf_path);
  }
  return Status::ok();
}

}  // namespace edgerig::ui
