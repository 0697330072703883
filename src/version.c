#include "version.h"

#include "mtl_version.h" /* generated at build time by scripts/version.cmake */

const char *mtl_version(void) { return MTL_VERSION; }
const char *mtl_git(void) { return MTL_GIT; }
const char *mtl_build(void) { return MTL_BUILD; }
