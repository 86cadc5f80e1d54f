// The import commands of the control socket (docs/formats/control.md): import-status answers
// where an import of one source stands; import turns its connection into a stream of chunks of
// FHIR Bulk Data NDJSON, each stored by BulkIngest (durably, with the import's progress) and
// answered before the next is read.
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "daemon/control_commands.h"
#include "daemon/control_stream.h"

namespace eds::daemon {

// {"ok":true,"progress":null|{offset,line,stored,duplicates,rejected}} or an error.
nlohmann::json ImportStatus(ControlContext& ctx, const nlohmann::json& request);

// Serves one import on `stream` until the client ends it, an error, `idle_timeout` without a
// frame, or the server stopping (the chunk being stored is finished and answered first).
// Errors are answered on the stream ({"ok":false,"error":...}) before it is closed.
void ServeImport(ControlContext& ctx, ControlStream& stream, const nlohmann::json& request,
                 const PeerCredentials& peer,
                 std::chrono::milliseconds idle_timeout = std::chrono::seconds(60));

}  // namespace eds::daemon
