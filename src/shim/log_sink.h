// Where the shim logs: the bundle's `log` fifo when there is one (containerd and berthd create
// it and copy what arrives into their own log), else stderr. Writes never block the loop: the
// fifo is non-blocking and a line that does not fit is dropped.
#pragma once

#include <string>

namespace berth::shim {

// Installs the default logger (logfmt lines as the rest of berth) at `debug` or info level.
void SetupLogging(const std::string& bundle, bool debug);

}  // namespace berth::shim
