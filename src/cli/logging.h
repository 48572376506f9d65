// Logging set-up for the binary: spdlog to stderr; level from -v or AIMARA_LOG (debug, info,
// warn, error, off). whisper.cpp's and ggml's own logs go through it at debug level. Messages
// are printed through terminal_safe(): one message, one line.
#pragma once

namespace aimara::cli {
void init_logging(bool verbose);
}
