// A chart's title that stays whole on a narrow chart: set once in full, it is broken into lines
// at spaces before each replot so that every line fits the chart's plot column (QCustomPlot
// would otherwise widen that column to the text and cut the title off at both ends).
#pragma once

#include <QString>

class QCustomPlot;

namespace edgerig::ui {

// Sets the full title of a chart whose first layout cell is its QCPTextElement title; the next
// replot fits it (connect fitChartTitle to the chart's beforeReplot).
void setChartTitle(QCustomPlot* plot, const QString& title);
void fitChartTitle(QCustomPlot* plot);

}  // namespace edgerig::ui
