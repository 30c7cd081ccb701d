// A chart's title that stays whole on a narrow chart: set once in full, it is broken into lines
// at spaces before each replot so that every line fits the chart's plot column (QCustomPlot
// would otherwise widen that column to the text and cut the title off at both ends).
#pragma once

#include <QFont>
#include <QString>

class QCustomPlot;

namespace edgerig::ui {

// Sets the full title of a chart whose first layout cell is its QCPTextElement title; the next
// replot fits it (connect fitChartTitle to the chart's beforeReplot).
void setChartTitle(QCustomPlot* plot, const QString& title);
void fitChartTitle(QCustomPlot* plot);

// `text` broken at spaces into lines of at most `width` pixels in `font` (a word wider than
// that keeps a line of its own).
QString wrapToWidth(const QString& text, const QFont& font, int width);

}  // namespace edgerig::ui
