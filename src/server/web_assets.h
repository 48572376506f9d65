// The dashboard's static files (web/), compiled into the binary so `aimara serve` needs nothing
// beside it on disk.
//
// At build time cmake/EmbedWebAssets.cmake turns every file under web/ into bytes in a generated
// source (target aimara_web_assets, cmake/AimaraWebAssets.cmake); editing a file in web/ rebuilds
// it. The content type comes from the file's extension.
//
// Thread-safety: the assets are immutable data with static storage duration; find_web_asset may
// be called from any thread at any time, and the views it hands out stay valid for the life of
// the program.
#pragma once

#include <string_view>

namespace aimara::server {

struct WebAsset {
  std::string_view body;          // the file's bytes, exactly as in web/
  std::string_view content_type;  // "text/html; charset=utf-8", "application/javascript; ...", ...
};

// `path` is the path part of a request ("/", "/app.js", "/icons/x.svg"): "/" and "/index.html"
// give web/index.html. nullptr when there is no such asset.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace aimara::server
