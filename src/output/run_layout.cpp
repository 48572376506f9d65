#include "output/run_layout.h"

#include <cerrno>
#include <cstring>

#include "core/fs.h"
#include "output/writers.h"

namespace aimara::output {

namespace fs = std::filesystem;

std::string stem_with_id(std::string_view safe_title, int64_t job_id) {
  return std::string(safe_title) + "_" + std::to_string(job_id);
}

std::string safe_title(std::string_view title, size_t max_bytes) {
  std::string out;
  out.reserve(title.size());
  bool space = false;
  for (unsigned char c : title) {
    bool bad = c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == ':' || c == '*' ||
               c == '?' || c == '"' || c == '<' || c == '>' || c == '|';
    if (bad || c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += static_cast<char>(c);
  }
  size_t lead = 0;
  while (lead < out.size() && (out[lead] == '.' || out[lead] == ' ' || out[lead] == '-')) ++lead;
  out.erase(0, lead);
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out.resize(cut);
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out.empty() ? std::string("untitled") : out;
}

Result<void> RunLayout::create_dirs() const {
  for (const auto& d : {root, transcripts(), video_transcripts()}) {
    if (auto made = create_folder(d, "output folder"); !made) return std::unexpected(made.error());
  }
  return {};
}

Result<std::unique_ptr<BuildingTranscript>> BuildingTranscript::open(
    const fs::path& path, const std::map<int, std::vector<asr::Segment>>& done) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return make_error(ErrorCode::kIo,
                      "cannot write '" + path.string() + "': " + std::strerror(errno));
  }
  std::unique_ptr<BuildingTranscript> b(new BuildingTranscript(path, f));
  b->pending_ = done;
  auto r = b->flush_ready();
  if (!r) return std::unexpected(r.error());
  return b;
}

BuildingTranscript::~BuildingTranscript() {
  if (file_ != nullptr) std::fclose(file_);
}

Result<void> BuildingTranscript::add(int index, const std::vector<asr::Segment>& segments) {
  if (index < next_) return {};  // written already
  pending_[index] = segments;
  return flush_ready();
}

Result<void> BuildingTranscript::flush_ready() {
  if (file_ == nullptr) return {};
  while (!pending_.empty() && pending_.begin()->first == next_) {
    asr::Transcript t;
    t.segments = std::move(pending_.begin()->second);
    pending_.erase(pending_.begin());
    std::string text = render_txt(t);
    if (!text.empty() && std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
      return make_error(ErrorCode::kIo, "cannot append to '" + path_.string() + "'");
    }
    ++next_;
  }
  std::fflush(file_);
  return {};
}

void BuildingTranscript::remove() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::error_code ec;
  fs::remove(path_, ec);
}

}  // namespace aimara::output
