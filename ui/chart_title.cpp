#include "ui/chart_title.h"

#include <qcustomplot.h>

#include <QFontMetrics>
#include <QStringList>

namespace edgerig::ui {
namespace {
constexpr char kFullTitle[] = "edgerigFullTitle";
constexpr int kTitleMargin = 8;  // pixels kept clear on each side of a title line

QCPTextElement* titleOf(QCustomPlot* plot) {
  if (plot->plotLayout()->elementCount() == 0) return nullptr;
  return qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
}

// `text` broken at spaces into lines of at most `width` pixels in `font` (a word wider than
// that keeps a line of its own).
QString wrapToWidth(const QString& text, const QFont& font, int width) {
  const QFontMetrics fm(font);
  QStringList lines;
  QString line;
  for (const QString& word : text.split(' ', Qt::SkipEmptyParts)) {
    const QString longer = line.isEmpty() ? word : line + ' ' + word;
    if (line.isEmpty() || fm.horizontalAdvance(longer) <= width) {
      line = longer;
    } else {
      lines << line;
      line = word;
    }
  }
  if (!line.isEmpty()) lines << line;
  return lines.join('\n');
}
}  // namespace

void setChartTitle(QCustomPlot* plot, const QString& title) {
  QCPTextElement* element = titleOf(plot);
  if (!element) return;
  element->setProperty(kFullTitle, title);
  element->setText(title);
}

void fitChartTitle(QCustomPlot* plot) {
  QCPTextElement* element = titleOf(plot);
  if (!element) return;
  const QString full = element->property(kFullTitle).toString();
  if (full.isEmpty()) return;
  // The title's column is the plot's width less the legend's column (the cell right of the
  // axis rect, laid out by the last replot; zero before the first).
  int width = plot->width();
  if (plot->plotLayout()->rowCount() > 1 && plot->plotLayout()->columnCount() > 1) {
    if (QCPLayoutElement* legend = plot->plotLayout()->element(1, 1)) {
      width -= legend->outerRect().width();
    }
  }
  const QString text = wrapToWidth(full, element->font(), width - 2 * kTitleMargin);
  if (text != element->text()) element->setText(text);
}

}  // namespace edgerig::ui
