/* What this binary is: the text of 'mtlbench --version', which every run also records
 * (run_record's version, git and build). */
#ifndef MTL_VERSION_H
#define MTL_VERSION_H

/* The release, e.g. "0.1.0". */
const char *mtl_version(void);
/* The git commit built (12 hex digits), with "-dirty" when tracked files differed from it;
 * "unknown" when built outside a git checkout. */
const char *mtl_git(void);
/* The build options that change the arithmetic: compiler, build type and its flags, the
 * -march target (with what "native" meant on the build machine), floating-point contraction
 * and sanitizers. One line. */
const char *mtl_build(void);

#endif
