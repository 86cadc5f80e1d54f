// The receiver's HTTPS routes: POST /releases (the sync protocol) and GET /releases (the list).
#pragma once

#include "hub/receiver.h"
#include "webadmin/admin_server.h"

namespace eds::hub {

// `receiver` must outlive `server`.
void AddRoutes(webadmin::AdminServer& server, Receiver& receiver);

}  // namespace eds::hub
