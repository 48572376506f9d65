// The one place cpp-httplib (0.20, the header inside the pinned whisper.cpp tree) is included.
//
// httplib is header-only and its behaviour is set with macros, so every file of the server must see
// the same ones: include this header, never <httplib.h> directly.
//
// - The listen backlog is raised from httplib's 5: hundreds of dashboard clients (server-sent
//   events) may connect at once, and a full backlog turns into SYN retries of a second or more.
// - Everything else keeps httplib's defaults; timeouts, thread pool and payload limits are set at
//   run time by HttpServer (http_server.h).
#pragma once

#ifndef CPPHTTPLIB_LISTEN_BACKLOG
#define CPPHTTPLIB_LISTEN_BACKLOG 1024
#endif

#include <httplib.h>
