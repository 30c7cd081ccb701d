// Numbers as the control room prints them: bytes and rates with units, durations as m:ss.
#pragma once

#include <QString>
#include <cstdint>

namespace edgerig::ui {

QString formatBytes(double bytes);       // "1.2 MB"
QString formatRate(double bytes_per_s);  // "1.2 MB/s"
QString formatDuration(double seconds);  // "1:05", "1:02:03"
QString formatCount(double value);       // "1234", "12.3k"

}  // namespace edgerig::ui
