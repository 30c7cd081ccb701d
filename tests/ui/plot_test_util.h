// What the plot panel's tests feed it: one iteration of a 2-device pipeline's metrics, a
// device's cumulative counters, and a chart's graph by name.
#pragma once

#include <qcustomplot.h>

#include <string>
#include <vector>

#include "ui/plot_panel.h"

namespace plot_test {

using edgerig::MetricSample;

// One iteration's worth of what the controller publishes for a 2-device pipeline.
inline std::vector<MetricSample> iteration(int it) {
  const double t = 0.1 * it;
  return {
      {t, it, "", "train_loss", 2.0 / (1 + it)}, {t, it, "", "train_accuracy", 0.5},
      {t, it, "", "samples_per_s", 600},         {t, it, "dev0", "samples_per_s", 300},
      {t, it, "dev1", "samples_per_s", 290},     {t, it, "dev0", "bytes_out_per_s", 1e6},
      {t, it, "dev1", "bytes_out_per_s", 2e6},   {t, it, "dev0", "rtt_ms", 0.3}};  // on no chart
}

// One report of a device's cumulative counters.
inline std::vector<MetricSample> counters(double t, int it, const std::string& device, double busy,
                                          double idle, double activation, double gradient) {
  return {{t, it, device, "busy_s", busy},
          {t, it, device, "idle_s", idle},
          {t, it, device, "bytes_sent_activation", activation},
          {t, it, device, "bytes_sent_gradient", gradient},
          {t, it, device, "bytes_sent_weights", 0},
          {t, it, device, "bytes_sent_gossip", 0},
          {t, it, device, "bytes_sent_replica", 0},
          {t, it, device, "bytes_sent_probe", 0},
          {t, it, device, "bytes_sent_control", 100}};
}

inline QCPGraph* graphNamed(QCustomPlot* plot, const QString& name) {
  for (int g = 0; g < plot->graphCount(); ++g) {
    if (plot->graph(g)->name() == name) return plot->graph(g);
  }
  return nullptr;
}

}  // namespace plot_test
