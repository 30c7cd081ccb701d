// compare.png and compare.pdf for edgerig-run compare: test accuracy against wall time and against
// iteration, and the bytes sent so far against wall time, one line per run, drawn offscreen by the
// control room's own charts (PlotPanel in compare mode). A plain C++ interface: the caller needs
// no Qt, and no display (the offscreen platform is chosen here when no application exists yet).
#pragma once

#include <string>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig::ui {

// Reads the run folders (the first is the baseline) and writes both files; `title` heads the
// figure. Errors name the folder or the file.
Status renderComparison(const std::vector<std::string>& run_dirs, const std::string& title,
                        const std::string& png_path, const std::string& pdf_path);

}  // namespace edgerig::ui
