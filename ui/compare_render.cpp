#include "ui/compare_render.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QImage>
#include <QPageSize>
#include <QPdfWriter>
#include <memory>

#include "ui/compare_runs.h"
#include "ui/offscreen_app.h"
#include "ui/plot_panel.h"

namespace edgerig::ui {
namespace {

constexpr int kChartWidth = 640, kChartHeight = 440;
constexpr int kTitleHeight = 34, kCaptionHeight = 22;
constexpr int kFigureWidth = 3 * kChartWidth;
constexpr int kFigureHeight = kTitleHeight + kCaptionHeight + kChartHeight;

struct Part {
  const char* caption;
  Chart chart;
  PlotPanel::XAxis axis;
};
// Left to right.
const Part kParts[] = {
    {"Test accuracy against wall time", Chart::kAccuracy, PlotPanel::XAxis::kWallTime},
    {"Test accuracy against iteration", Chart::kAccuracy, PlotPanel::XAxis::kIteration},
    {"Bytes sent so far, all devices, against wall time", Chart::kTrafficKind,
     PlotPanel::XAxis::kWallTime},
};

// The figure on any painter: a title, then each part under its caption.
void paintFigure(QCPPainter& painter, PlotPanel& panel, const QString& title) {
  painter.fillRect(QRect(0, 0, kFigureWidth, kFigureHeight), Qt::white);
  QFont title_font = QApplication::font();
  title_font.setPointSize(13);
  title_font.setBold(true);
  painter.setFont(title_font);
  painter.setPen(Qt::black);
  painter.drawText(QRect(12, 0, kFigureWidth - 24, kTitleHeight), Qt::AlignLeft | Qt::AlignVCenter,
                   title);
  QFont caption_font = QApplication::font();
  caption_font.setPointSize(10);
  for (const auto axis : {PlotPanel::XAxis::kWallTime, PlotPanel::XAxis::kIteration}) {
    panel.setXAxis(axis);
    panel.showAll();
    panel.replotAllNow();
    panel.replotAllNow();  // decimated again for the axis rects this first replot laid out
    for (size_t i = 0; i < std::size(kParts); ++i) {
      if (kParts[i].axis != axis) continue;
      const int left = static_cast<int>(i) * kChartWidth;
      painter.save();
      painter.setFont(caption_font);
      painter.setPen(QColor(60, 60, 60));
      painter.drawText(QRect(left + 12, kTitleHeight, kChartWidth - 24, kCaptionHeight),
                       Qt::AlignLeft | Qt::AlignVCenter, kParts[i].caption);
      painter.translate(left, kTitleHeight + kCaptionHeight);
      panel.chart(kParts[i].chart)->toPainter(&painter, kChartWidth, kChartHeight);
      painter.restore();
    }
  }
}

Status cannotWrite(const std::string& path) {
  return unavailable("cannot write " + path + ": check the folder exists and is writable");
}

}  // namespace

Status renderComparison(const std::vector<std::string>& run_dirs, const std::string& title,
                        const std::string& png_path, const std::string& pdf_path) {
  // Headless: no display is needed or used, whatever the environment says.
  std::unique_ptr<QApplication> app;
  if (auto st = ensureWidgetsApp(app, "renderComparison"); !st) return st;
  auto loaded = loadComparison(run_dirs);
  if (!loaded) return loaded.status();

  PlotPanel panel;
  for (int c = 0; c < kChartCount; ++c)
    panel.chart(static_cast<Chart>(c))->resize(kChartWidth, kChartHeight);
  panel.showRuns(std::move(loaded->runs));
  const QString heading = QString::fromStdString(title);

  QImage image(kFigureWidth, kFigureHeight, QImage::Format_ARGB32_Premultiplied);
  image.fill(Qt::white);
  {
    QCPPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    paintFigure(painter, panel, heading);
  }
  if (!image.save(QString::fromStdString(png_path), "PNG")) return cannotWrite(png_path);

  QPdfWriter pdf(QString::fromStdString(pdf_path));
  pdf.setResolution(72);  // one point per pixel of the PNG
  pdf.setPageSize(QPageSize(QSizeF(kFigureWidth, kFigureHeight), QPageSize::Point));
  pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
  pdf.setTitle(heading);
  pdf.setCreator("edgerig-run compare");
  QCPPainter painter;
  if (!painter.begin(&pdf)) return cannotWrite(pdf_path);
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  painter.setWindow(QRect(0, 0, kFigureWidth, kFigureHeight));
  paintFigure(painter, panel, heading);
  if (!painter.end()) return cannotWrite(pdf_path);
  return Status::ok();
}

}  // namespace edgerig::ui
