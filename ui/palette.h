// The control room's colours: one per device (shared by the partition strip, the plots and the
// device table), one per compared run, and one per device state, chosen to stay distinct on a
// projector.
#pragma once

#include <QColor>

#include "core/controller/run_types.h"

namespace edgerig::ui {

QColor deviceColor(int device);
// One per compared run (the first is the baseline); the same colour-blind-safe order.
QColor runColor(int run);
QColor stateColor(DeviceState state);
// Black or white, whichever reads better on `background`.
QColor textColorOn(const QColor& background);

}  // namespace edgerig::ui
