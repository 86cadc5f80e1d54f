// eds-update-sign: makes signed TUF repositories and offline bundles (see sign_tool.h).
#include <string>
#include <vector>

#include "update/sign_tool.h"

int main(int argc, char** argv) {
  return eds::update::RunSignTool(std::vector<std::string>(argv + 1, argv + argc));
}
