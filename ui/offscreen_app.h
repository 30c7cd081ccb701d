// Drawing offscreen from edgerig-run (compare.png, xy.png): a QApplication on the offscreen
// platform when none exists yet, whatever the environment says, so no display is needed.
#pragma once

#include <QApplication>
#include <memory>
#include <string>

#include "device_bridge/status.h"

namespace edgerig::ui {

// Fills `app` (keep it while drawing) when there is no application yet; an error naming `who`
// when the application that exists has no widgets.
inline Status ensureWidgetsApp(std::unique_ptr<QApplication>& app, const std::string& who) {
  if (!QCoreApplication::instance()) {
    qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "edgerig-run";
    static char* argv[] = {name, nullptr};
    app = std::make_unique<QApplication>(argc, argv);
  } else if (!qobject_cast<QApplication*>(QCoreApplication::instance())) {
    return internalError(who + " needs a QApplication (widgets), not a core application");
  }
  return Status::ok();
}

}  // namespace edgerig::ui
