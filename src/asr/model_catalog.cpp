#include "asr/model_catalog.h"

#include <array>
#include <cstdlib>

#include "core/fs.h"
#include "core/http_download.h"
#include "core/paths.h"

namespace aimara::asr {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kWhisperHub = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";
constexpr std::string_view kVadHub = "https://huggingface.co/ggml-org/whisper-vad/resolve/main";

constexpr auto kCatalog = std::to_array<CatalogEntry>({
    {"tiny", ModelKind::kWhisper, "ggml-tiny.bin", 75, "bd577a113a864445d4c299885e0cb97d4ba92b5f"},
    {"tiny.en", ModelKind::kWhisper, "ggml-tiny.en.bin", 75, "c78c86eb1a8faa21b369bcd33207cc90d64ae9df"},
    {"tiny-q5_1", ModelKind::kWhisper, "ggml-tiny-q5_1.bin", 31, ""},
    {"tiny.en-q5_1", ModelKind::kWhisper, "ggml-tiny.en-q5_1.bin", 31, ""},
    {"tiny-q8_0", ModelKind::kWhisper, "ggml-tiny-q8_0.bin", 42, ""},
    {"base", ModelKind::kWhisper, "ggml-base.bin", 142, "465707469ff3a37a2b9b8d8f89f2f99de7299dac"},
    {"base.en", ModelKind::kWhisper, "ggml-base.en.bin", 142, "137c40403d78fd54d454da0f9bd998f78703390c"},
    {"base-q5_1", ModelKind::kWhisper, "ggml-base-q5_1.bin", 57, ""},
    {"base.en-q5_1", ModelKind::kWhisper, "ggml-base.en-q5_1.bin", 57, ""},
    {"base-q8_0", ModelKind::kWhisper, "ggml-base-q8_0.bin", 78, ""},
    {"small", ModelKind::kWhisper, "ggml-small.bin", 466, "55356645c2b361a969dfd0ef2c5a50d530afd8d5"},
    {"small.en", ModelKind::kWhisper, "ggml-small.en.bin", 466, "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022"},
    {"small-q5_1", ModelKind::kWhisper, "ggml-small-q5_1.bin", 181, ""},
    {"small.en-q5_1", ModelKind::kWhisper, "ggml-small.en-q5_1.bin", 181, ""},
    {"small-q8_0", ModelKind::kWhisper, "ggml-small-q8_0.bin", 252, ""},
    {"medium", ModelKind::kWhisper, "ggml-medium.bin", 1536, "fd9727b6e1217c2f614f9b698455c4ffd82463b4"},
    {"medium.en", ModelKind::kWhisper, "ggml-medium.en.bin", 1536, "8c30f0e44ce9560643ebd10bbe50cd20eafd3723"},
    {"medium-q5_0", ModelKind::kWhisper, "ggml-medium-q5_0.bin", 514, ""},
    {"medium.en-q5_0", ModelKind::kWhisper, "ggml-medium.en-q5_0.bin", 514, ""},
    {"medium-q8_0", ModelKind::kWhisper, "ggml-medium-q8_0.bin", 785, ""},
    {"large-v1", ModelKind::kWhisper, "ggml-large-v1.bin", 2970, "b1caaf735c4cc1429223d5a74f0f4d0b9b59a299"},
    {"large-v2", ModelKind::kWhisper, "ggml-large-v2.bin", 2970, "0f4c8e34f21cf1a914c59d8b3ce882345ad349d6"},
    {"large-v2-q5_0", ModelKind::kWhisper, "ggml-large-v2-q5_0.bin", 1080, "00e39f2196344e901b3a2bd5814807a769bd1630"},
    {"large-v2-q8_0", ModelKind::kWhisper, "ggml-large-v2-q8_0.bin", 1660, ""},
    {"large-v3", ModelKind::kWhisper, "ggml-large-v3.bin", 2970, "ad82bf6a9043ceed055076d0fd39f5f186ff8062"},
    {"large-v3-q5_0", ModelKind::kWhisper, "ggml-large-v3-q5_0.bin", 1080, "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de"},
    {"large-v3-turbo", ModelKind::kWhisper, "ggml-large-v3-turbo.bin", 1536, "4af2b29d7ec73d781377bfd1758ca957a807e941"},
    {"large-v3-turbo-q5_0", ModelKind::kWhisper, "ggml-large-v3-turbo-q5_0.bin", 547, "e050f7970618a659205450ad97eb95a18d69c9ee"},
    {"large-v3-turbo-q8_0", ModelKind::kWhisper, "ggml-large-v3-turbo-q8_0.bin", 834, ""},
    {"silero-v5.1.2", ModelKind::kVad, "ggml-silero-v5.1.2.bin", 1, ""},
    {"silero-v6.2.0", ModelKind::kVad, "ggml-silero-v6.2.0.bin", 1, ""},
});

}  // namespace

std::span<const CatalogEntry> model_catalog() { return kCatalog; }

const CatalogEntry* find_model(std::string_view name) {
  if (name.starts_with("ggml-")) name.remove_prefix(5);
  if (name.ends_with(".bin")) name.remove_suffix(4);
  for (const auto& e : kCatalog) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

fs::path model_file_path(const CatalogEntry& entry) { return models_dir() / entry.file; }

std::string model_url(const CatalogEntry& entry) {
  const char* base = std::getenv("AIMARA_MODEL_BASE_URL");
  std::string b = (base != nullptr && *base != '\0')
                      ? std::string(base)
                      : std::string(entry.kind == ModelKind::kVad ? kVadHub : kWhisperHub);
  if (!b.empty() && b.back() == '/') b.pop_back();
  return b + "/" + std::string(entry.file);
}

Result<fs::path> resolve_model(std::string_view path_or_name) {
  std::error_code ec;
  fs::path as_path(path_or_name);
  if (fs::exists(as_path, ec)) return as_path;
  if (const CatalogEntry* e = find_model(path_or_name)) {
    fs::path p = model_file_path(*e);
    if (fs::exists(p, ec)) return p;
    return make_error(ErrorCode::kModelMissing,
                      "model '" + std::string(e->name) + "' is not downloaded (expected at " +
                          p.string() + "): run `aimara models download " + std::string(e->name) +
                          "`");
  }
  return make_error(ErrorCode::kModelMissing,
                    "no model file '" + std::string(path_or_name) +
                        "' and no model of that name (see `aimara models list`)");
}

Result<ModelDownload> download_model(const CatalogEntry& entry, const std::string& digest,
                                     const std::function<void(int64_t, int64_t)>& progress) {
  fs::path dest = model_file_path(entry);
  if (auto made = create_folder(dest.parent_path(), "models folder"); !made) {
    return std::unexpected(made.error());
  }
  DownloadOptions o;
  o.expected_digest = digest.empty() ? std::string(entry.sha1) : digest;
  o.progress = progress;
  auto r = download_file(model_url(entry), dest, o);
  if (!r && r.error().code == ErrorCode::kNetwork) {
    return make_error(ErrorCode::kNetwork,
                      r.error().message + " (run the same command again to resume the download)");
  }
  if (!r) return std::unexpected(r.error());
  return ModelDownload{dest, r->bytes, r->resumed_from, r->digest};
}

}  // namespace aimara::asr
