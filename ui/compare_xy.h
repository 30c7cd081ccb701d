// The curve of a comparison (core/runlog/comparison_curve.h) as xy.png and xy.pdf for
// edgerig-run compare --xy: one marker per run, labelled with its settings, the runs of one group
// (the sweep's outermost axis) joined in the order of x and drawn in one colour. Offscreen, as
// compare.png (a plain C++ interface, no display needed).
#pragma once

#include <string>

#include "core/runlog/comparison_curve.h"
#include "device_bridge/status.h"

namespace edgerig::ui {

Status renderCurve(const Curve& curve, const std::string& title, const std::string& png_path,
                   const std::string& pdf_path);

}  // namespace edgerig::ui
