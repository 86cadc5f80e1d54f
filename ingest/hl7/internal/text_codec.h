// Character sets and escape sequences of HL7 v2 values (v2.5.1 chapter 2.7). Stateless
// functions, safe from any thread. Output is always UTF-8 except Utf8ToLatin1.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ingest/hl7/message.h"

namespace eds::ingest::hl7::internal {

// The MSH-18 character sets we read. ASCII lets valid UTF-8 through, because senders that
// leave MSH-18 empty routinely send UTF-8.
enum class Charset { kAscii, kLatin1, kUtf8 };

// Maps an MSH-18 value ("", "ASCII", "8859/1", "UNICODE UTF-8", "UTF-8"; case and surrounding
// spaces ignored) to a Charset; nullopt when unsupported.
std::optional<Charset> CharsetFromName(std::string_view name);

// Appends one raw value (a sub-component as it appears on the wire) to `out`, with escape
// sequences resolved and converted to UTF-8. Returns false when the appended bytes are not
// valid UTF-8 (only possible for kAscii and kUtf8); `out` then holds them as they were.
bool AppendDecoded(std::string_view raw, const Delimiters& delimiters, Charset charset,
                   std::string& out);

// Appends UTF-8 `text` with every delimiter, CR and LF written as an escape sequence, so it
// decodes back to `text`. Without an escape character those bytes become spaces instead.
void AppendEscaped(std::string_view text, const Delimiters& delimiters, std::string& out);

bool IsValidUtf8(std::string_view text);
// Replaces each byte that does not start a valid UTF-8 sequence with '?', from `from` on.
void SanitizeUtf8(std::string& text, size_t from = 0);
// Converts UTF-8 to ISO 8859-1; code points above U+00FF and invalid bytes become '?'.
std::string Utf8ToLatin1(std::string_view utf8);

}  // namespace eds::ingest::hl7::internal
