// config_file_fuzz.cpp — the config-file loader (README.md, Configuration reference) on
// arbitrary file contents.
//
// `load_config_file` takes a path: each input is written to one in-memory file (memfd) that
// is read back through /proc/self/fd, so nothing touches the disk and no file is left behind.
// Invariants: an error is one line of valid UTF-8 that names the file; a file that gives a key
// twice is refused, naming it; otherwise the loader and `merge_config` over the same JSON agree
// on whether it is valid and on the result; a loaded
// config written back as a file (`to_json(..., secrets::shown)`) loads to the same config.
#include "fuzz_check.hpp"

#include "telluride/domain/config_schema.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

/// One in-memory file, rewritten for each input.
class memory_file {
public:
  memory_file() : fd_(::memfd_create("config_file_fuzz", MFD_CLOEXEC)) {
    fuzz::check(fd_ >= 0, "memfd_create works");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
    name_ = "config file \"" + path_.string() + "\"";
  }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  ~memory_file() { ::close(fd_); }

  void write(std::string_view content) {
    fuzz::check(::ftruncate(fd_, 0) == 0, "the memory file can be emptied");
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::pwrite(fd_, content.data() + done, content.size() - done,
                                 static_cast<off_t>(done));
      fuzz::check(n > 0, "the memory file can be written");
      done += static_cast<std::size_t>(n);
    }
  }
  const std::filesystem::path& path() const { return path_; }
  /// How errors name the file: `config file "/proc/self/fd/3"`.
  const std::string& name() const { return name_; }

private:
  int fd_;
  std::filesystem::path path_;
  std::string name_;
};

std::string describe(const telluride::expected<telluride::config>& result) {
  return result ? telluride::to_json(*result, telluride::secrets::shown).dump()
                : "error: " + result.err().message;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static memory_file file;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  file.write(content);
  const auto loaded = telluride::load_config_file(file.path());

  // nlohmann takes a NUL byte for the end of the text; JSON allows none, so the reference
  // parse counts only without one (and a file holding one must be refused: checked below).
  const bool has_nul = content.find('\0') != std::string_view::npos;
  const nlohmann::json as_json =
      has_nul ? nlohmann::json(nullptr) : nlohmann::json::parse(content, nullptr, false);
  if (has_nul)
    fuzz::check(!loaded.has_value(), "a config file holding a NUL byte is refused", describe(loaded));
  // JSON allows a key twice and nlohmann keeps the last one; a config file must not give one
  // twice (bounded_json.hpp), so such a file is refused and the reference parse does not count.
  // The loader's own limits, so that a deeper or larger file fails on that first, for both.
  const auto strict = telluride::parse_bounded_json(content, telluride::config_file_limits);
  const bool gives_a_key_twice = !strict && strict.err().message.starts_with("gives the key ");
  if (gives_a_key_twice)
    fuzz::check(!loaded.has_value() && loaded.err().message.ends_with(strict.err().message),
                "a config file giving a key twice is refused, naming the key",
                [&] { return describe(loaded) + " | " + strict.err().message; });
  if (as_json.is_object() && !gives_a_key_twice) {
    const auto merged = telluride::merge_config(telluride::config{}, as_json);
    fuzz::check(loaded.has_value() == merged.has_value() && (!loaded || *loaded == *merged),
                "load_config_file and merge_config agree on a JSON object",
                [&] { return describe(loaded) + " | " + describe(merged); });
  }

  if (!loaded) {
    const std::string& message = loaded.err().message;
    fuzz::check_error_text(message, "load_config_file");
    fuzz::check(message.starts_with(file.name()), "a config file error names the file", message);
    return 0;
  }
  fuzz::check(as_json.is_object(), "a loaded config file holds one JSON object", content);

  const std::string written = telluride::to_json(*loaded, telluride::secrets::shown).dump(2);
  file.write(written);
  const auto reloaded = telluride::load_config_file(file.path());
  fuzz::check(reloaded.has_value() && *reloaded == *loaded,
              "a loaded config written back as a file loads to the same config",
              [&] { return written + " -> " + describe(reloaded); });
  return 0;
}
